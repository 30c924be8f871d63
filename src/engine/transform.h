#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "config/project.h"
#include "types/column.h"
#include "types/schema.h"

// Fitted transforms: the seed's "normalized between 0 and 1 in training and serving alike".
//
// A transform is fitted once on a training snapshot (Fit), frozen into a TransformArtifact that is
// stored as canonical JSON and named by its SHA-256 (ToJson, ArtifactId), and then applied by this
// one function (Apply) both when a training set is written and on the online serving path, which
// calls Apply on a one-row column. Apply is a pure function of (artifact, row): a row's output
// never depends on the other rows in its column, so there is no second implementation to drift.
//
// Fitting is deterministic to the bit: the artifact depends only on the multiset of non-null input
// values, never on their order, so rebuilding a training set reproduces the same artifact id.
//
// Semantics of Apply, per type (x is one input value; NULL means an invalid slot):
//   minmax   (x - min) / (max - min), clamped to [0, 1]: values outside the fitted range map to 0
//            or 1 rather than leaving the range; 0 when max == min. NULL stays NULL.
//   zscore   (x - mean) / stddev with the population stddev (divides by n, as scikit-learn's
//            StandardScaler); 0 when stddev == 0. Not clamped. NULL stays NULL.
//   clip     x clamped to [lower, upper], the fitted quantiles. NULL stays NULL.
//   impute   NULL becomes the fill (mean, median or a constant); other values pass through. Output
//            is double for numeric input; text input with a text fill stays text.
//   ordinal  the 1-based index of x's text among the fitted categories; 0 is the explicit unknown
//            bucket, taken by values never seen in fitting and by NULL.
//   onehot   one 0/1 column per fitted category plus "<feature>=__unknown__", which is 1 for
//            unseen values and NULL. Exactly one output column is 1 in every row.
// For the numeric types (minmax, zscore, clip, impute mean/median) the input must be a double,
// int64 or bool column (bool reads as 0/1, int64 converts to the nearest double). A NaN input is
// not NULL: it propagates as NaN through minmax, zscore and clip and passes through impute.
// Categories are values rendered as text by Column::ValueToString (doubles as %.17g), so an input
// column must have the type it had when fitting for its values to be recognised.
namespace sluice::engine {

// Bumped when the artifact JSON layout changes; ParseTransformArtifact rejects other versions.
inline constexpr int kTransformArtifactFormatVersion = 1;
// The category name of the onehot unknown bucket; no fitted category may be spelled like this.
inline constexpr std::string_view kUnknownCategory = "__unknown__";

// A fitted transform: its definition plus the parameters learned from training data.
struct TransformArtifact {
  std::string feature;  // the input feature (column) name
  config::TransformType type = config::TransformType::kMinmax;
  std::optional<config::ImputeStrategy> strategy;  // impute only
  // Learned parameters; only those the type uses are set and serialized.
  double min = 0, max = 0;              // minmax; also reported by zscore, clip, impute mean/median
  double mean = 0, stddev = 0;          // zscore (population stddev)
  std::vector<std::string> categories;  // onehot/ordinal: distinct non-null values as text, sorted
                                        // by their bytes (so "10" < "9": stable, not numeric)
  double fill = 0;                      // impute: numeric fill
  std::string fill_text;                // impute constant on a text column
  bool fill_is_text = false;
  double lower = 0, upper = 0;                    // clip: fitted quantile values
  double lower_quantile = 0, upper_quantile = 1;  // clip: the requested quantiles
  std::int64_t fitted_rows = 0;                   // non-null values seen when fitting
  std::string fitted_on;  // what it was fitted on (a training-set dataset version id)

  bool operator==(const TransformArtifact&) const = default;
};

// Canonical JSON: fixed key order, no whitespace, only the keys the type uses, doubles written so
// they parse back to the identical bits (including -0.0 and subnormals). Layout:
//   {"format_version":1,"feature":..,"type":..,["strategy":..,]"fitted_on":..,"fitted_rows":..,
//    minmax: "min","max" | zscore: "mean","stddev","min","max" |
//    clip: "lower_quantile","upper_quantile","lower","upper","min","max" |
//    onehot/ordinal: "categories" | impute: "fill" (a string for a text fill)[,"min","max"]}
// (impute reports min/max only for mean and median.)
std::string ToJson(const TransformArtifact& a);

// Strict inverse of ToJson. Fails (kCorruption, the key named) on malformed JSON, a missing key, a
// key the type does not use, a wrong JSON type, an unknown type or strategy name, a non-finite
// number, or inconsistent parameters (min > max, stddev < 0, quantiles outside [0, 1] or not
// increasing, lower > upper, categories not sorted and distinct, negative fitted_rows).
base::Result<TransformArtifact> ParseTransformArtifact(std::string_view json);

// The artifact's version: lake::Sha256Hex of ToJson (64 lowercase hex characters).
std::string ArtifactId(const TransformArtifact& a);

// Fits `spec` on the non-null values of `values`, recording `fitted_on`.
//  - minmax/zscore/clip/impute mean|median need a double, int64 or bool column with at least one
//    non-null value, all finite.
//  - onehot/ordinal take any column type; categories are the distinct values' text.
//  - impute constant needs no data: `spec.value` is the fill, kept as text when `values` is a
//    string column and otherwise parsed as a number.
// Quantiles (clip) and the median (impute) use the "lower" nearest-rank rule on the n values
// sorted ascending: q -> sorted[floor(q * (n - 1))], so an even count's median is the lower middle
// value and q = 0 / q = 1 give the minimum / maximum. The mean is a compensated sum over the
// sorted values, corrected by a second pass; the stddev is the corrected two-pass population
// value. -0.0 sorts before 0.0 so even the sign of a zero does not depend on input order.
// Clip quantiles default to 0 (lower) and 1 (upper) when the spec leaves one out.
// Errors (kInvalidArgument, naming the feature): a numeric transform on a column of another type,
// no non-null values, a non-finite value, quantiles outside [0, 1] or lower >= upper, impute
// without a strategy, a constant without a value (or one that is not a finite number for a numeric
// column), a category spelled "__unknown__", or text that is not UTF-8.
base::Result<TransformArtifact> Fit(const config::TransformSpec& spec, const types::Column& values,
                                    const std::string& fitted_on);

// The columns Apply produces from a feature of type `input_type`, in order:
//   minmax/zscore/clip -> "<feature>" double, nullable;
//   impute             -> "<feature>" not null, string if the fill is text else double;
//   ordinal            -> "<feature>" int64 not null;
//   onehot             -> "<feature>=<category>" int64 not null per category, then
//                         "<feature>=__unknown__".
std::vector<types::Field> OutputFields(const TransformArtifact& a, types::LogicalType input_type);

// Empty columns typed as OutputFields says, ready for Apply.
std::vector<types::Column> MakeOutputColumns(const TransformArtifact& a,
                                             types::LogicalType input_type);

// Transforms every row of `input`, appending one value per row to each of `*outputs`. The caller
// owns the output columns: there must be exactly one per OutputFields entry, of that type (use
// MakeOutputColumns); appending lets a stream of micro-batches accumulate into the same columns.
// Fails (kInvalidArgument) without appending anything if the input type does not suit the
// transform (see the file comment) or the outputs do not match OutputFields.
base::Status Apply(const TransformArtifact& a, const types::Column& input,
                   std::vector<types::Column>* outputs);

}  // namespace sluice::engine
