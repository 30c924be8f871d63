#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"
#include "config/project.h"
#include "lake/lake.h"

// Data drift between two sets of rows of the lake (a reference and a current), column by column,
// with Evidently's default choice of test and SciPy's statistics (drift_statistics.h).
namespace sluice::quality {

// Rows to compare: a dataset version, optionally only the rows whose event time falls in
// [from, to).
struct DriftSide {
  std::string label;  // as the user wrote it, for reports
  lake::Manifest manifest;
  std::optional<std::string> time_column;
  std::optional<std::int64_t> from_micros;  // inclusive
  std::optional<std::int64_t> to_micros;    // exclusive
  // The rows to read instead of the version's files as they are (a serving log's features as
  // columns: served_features.h); the manifest's schema then describes these rows.
  std::optional<std::string> rows_sql;
};

// Resolves REF/CUR text: DATASET (its current version), a version id or unique prefix,
// DATASET@-DURATION (rows of the current version from now - DURATION on, by event time),
// DATASET[FROM,TO) (rows with FROM <= event time < TO; ISO-8601 instants, either may be empty).
// The event-time column is the source's event_time or the training set's timestamp (a serving
// log's: served_at); a model needs `time_column`. A serving log's features become typed columns
// (ExpandServingLog).
base::Result<DriftSide> ResolveDriftSide(const std::string& text,
                                         const config::ProjectSpec& project, const lake::Lake& lake,
                                         std::chrono::system_clock::time_point now);

struct DriftSettings {
  config::DriftMethod method = config::DriftMethod::kAuto;
  std::int64_t small_reference_rows = 1000;
  double drift_share = 0.5;
  double ks = 0.05, chisquare = 0.05, ztest = 0.05;
  double wasserstein = 0.1, jensenshannon = 0.1, psi = 0.1;
  std::vector<std::string> columns;  // empty: every column both sides have
  int threads = 0;                   // DuckDB, sorting and comparing threads; 0 = all cores
  int max_histogram_bins = 60;       // per column in reports
  // Concept drift: the label column whose rate per feature bin is compared, and how far apart
  // the rates of one bin may be; bins with fewer than `concept_min_rows` on a side are skipped.
  std::optional<std::string> label;
  double concept_threshold = 0.1;
  std::int64_t concept_min_rows = 30;
};
// The project's monitoring.drift settings with the documented defaults filled in.
DriftSettings SettingsFromProject(const config::ProjectSpec& project);

struct ColumnDrift {
  std::string name;
  std::string type;    // "numeric" or "categorical"; "" when not compared
  std::string method;  // "ks", "wasserstein", ... ; "none" when not compared
  std::optional<double> statistic;
  std::optional<double> p_value;  // for ks, chisquare, ztest
  double threshold = 0;
  bool drifted = false;
  bool compared = false;              // false: see `note`; counted in neither share
  std::string note;                   // why not compared, or ""
  std::int64_t reference_values = 0;  // non-null values compared
  std::int64_t current_values = 0;
  // For reports: bins (numeric: edges, one more than counts) or categories, and counts.
  std::vector<double> edges;
  std::vector<std::string> categories;
  std::vector<std::int64_t> reference_counts;
  std::vector<std::int64_t> current_counts;
};

// The relation between one feature and the label: the label's mean (its rate, for a 0/1 label)
// per feature bin, reference against current.
struct ConceptBin {
  std::string bin;  // "[lower, upper)" or the category
  std::int64_t reference_rows = 0;
  std::int64_t current_rows = 0;
  std::optional<double> reference_rate;  // unset when the side has no rows in the bin
  std::optional<double> current_rate;
};
struct ConceptDrift {
  std::string name;
  std::optional<double> statistic;  // the largest |rate difference| over bins with enough rows
  double threshold = 0;
  bool drifted = false;
  std::vector<ConceptBin> bins;
};

struct DriftReport {
  std::string reference;  // labels
  std::string current;
  std::string reference_version;
  std::string current_version;
  std::int64_t reference_rows = 0;
  std::int64_t current_rows = 0;
  std::vector<ColumnDrift> columns;
  int compared_columns = 0;
  int drifted_columns = 0;
  double drift_share = 0;  // drifted / compared (0 when nothing was compared)
  double share_threshold = 0.5;
  bool dataset_drift = false;        // drift_share >= share_threshold and something was compared
  std::optional<std::string> label;  // concept drift, when a label was given
  std::vector<ConceptDrift> concept_drift;
};

base::Result<DriftReport> ComputeDrift(const lake::Lake& lake, const DriftSide& reference,
                                       const DriftSide& current, const DriftSettings& settings);

// {"reference", "current", ..., "columns": [{"name", "method", "statistic", "p_value",
// "threshold", "drifted", ...}], "dataset_drift", "drift_share"}: no NaN or infinity (null).
std::string DriftToJson(const DriftReport& report);

}  // namespace sluice::quality
