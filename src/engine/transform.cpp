#include "engine/transform.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <unordered_set>
#include <utility>

#include <nlohmann/json.hpp>

#include "lake/content_hash.h"

namespace sluice::engine {

using config::ImputeStrategy;
using config::TransformType;
using nlohmann::ordered_json;
using types::Column;
using types::LogicalType;

namespace {

constexpr std::array kAllTypes = {TransformType::kMinmax, TransformType::kZscore,
                                  TransformType::kOnehot, TransformType::kOrdinal,
                                  TransformType::kImpute, TransformType::kClip};
constexpr std::array kAllStrategies = {ImputeStrategy::kMean, ImputeStrategy::kMedian,
                                       ImputeStrategy::kConstant};

// Whether the transform reads its input as numbers (as opposed to categories or a text fill).
bool IsNumeric(const TransformArtifact& a) {
  switch (a.type) {
    case TransformType::kMinmax:
    case TransformType::kZscore:
    case TransformType::kClip:
      return true;
    case TransformType::kImpute:
      return !a.fill_is_text;
    case TransformType::kOnehot:
    case TransformType::kOrdinal:
      return false;
  }
  return false;
}

bool IsNumericColumn(LogicalType t) {
  return t == LogicalType::kDouble || t == LogicalType::kInt64 || t == LogicalType::kBool;
}

// Whether min and max are part of the artifact: the types fitted on numeric data.
bool ReportsRange(const TransformArtifact& a) {
  switch (a.type) {
    case TransformType::kMinmax:
    case TransformType::kZscore:
    case TransformType::kClip:
      return true;
    case TransformType::kImpute:
      return a.strategy != ImputeStrategy::kConstant;
    case TransformType::kOnehot:
    case TransformType::kOrdinal:
      return false;
  }
  return false;
}

std::string Describe(const TransformArtifact& a) {
  return std::string(config::Name(a.type)) + " transform of '" + a.feature + "'";
}

// Precondition: IsNumericColumn(c.type()) and c.IsValid(row).
double NumberAt(const Column& c, size_t row) {
  switch (c.type()) {
    case LogicalType::kInt64:
      return static_cast<double>(c.GetInt64(row));
    case LogicalType::kBool:
      return c.GetBool(row) ? 1.0 : 0.0;
    default:
      return c.GetDouble(row);
  }
}

// The text a category is known by. Strings are used as they are (ValueToString returns the same
// bytes, without the copy); everything else is rendered the one way ValueToString renders it.
std::string CategoryText(const Column& c, size_t row) {
  if (c.type() == LogicalType::kString) return std::string(c.GetString(row));
  return c.ValueToString(row);
}

// A strict total order on finite doubles: -0.0 before 0.0, which operator< treats as equal. With
// it the sorted sequence, and so every fitted parameter down to the sign of a zero, is a function
// of the multiset of values alone.
bool TotalLess(double x, double y) {
  return x < y || (x == y && std::signbit(x) && !std::signbit(y));
}

// The "lower" nearest-rank quantile of ascending `sorted` (non-empty).
double LowerQuantile(const std::vector<double>& sorted, double q) {
  const double pos = std::floor(q * static_cast<double>(sorted.size() - 1));
  const size_t i = std::min(static_cast<size_t>(pos), sorted.size() - 1);
  return sorted[i];
}

// Neumaier's compensated sum, in the given (sorted) order.
double CompensatedSum(const std::vector<double>& xs) {
  double sum = 0, compensation = 0;
  for (double x : xs) {
    const double t = sum + x;
    compensation += std::abs(sum) >= std::abs(x) ? (sum - t) + x : (x - t) + sum;
    sum = t;
  }
  return sum + compensation;
}

// Mean and population stddev by the corrected two-pass algorithm (Chan, Golub and LeVeque), which
// stays accurate when the spread is small next to the magnitude.
void MeanAndStddevUnscaled(const std::vector<double>& sorted, double* mean, double* stddev) {
  const double n = static_cast<double>(sorted.size());
  double m = CompensatedSum(sorted) / n;
  double residual = 0;
  for (double x : sorted)
    residual += x - m;
  m = std::clamp(m + residual / n, sorted.front(), sorted.back());
  double squares = 0, deviations = 0;
  for (double x : sorted) {
    const double d = x - m;
    squares += d * d;
    deviations += d;
  }
  const double variance = (squares - deviations * deviations / n) / n;
  *mean = m;
  *stddev = std::sqrt(std::max(variance, 0.0));
}

void MeanAndStddev(const std::vector<double>& sorted, double* mean, double* stddev) {
  if (sorted.front() == sorted.back()) {
    // Exact for a constant column, so zscore maps it to 0 and not to +-1 from a rounding residue.
    *mean = sorted.front();
    *stddev = 0;
    return;
  }
  // Squares of values past 2^511 overflow. Such values are first divided by a power of two, which
  // is exact, so ordinary data keeps the unscaled bits and huge data still fits.
  const double magnitude = std::max(std::abs(sorted.front()), std::abs(sorted.back()));
  if (magnitude < 0x1p500) {
    MeanAndStddevUnscaled(sorted, mean, stddev);
    return;
  }
  const int exponent = std::ilogb(magnitude);
  std::vector<double> scaled(sorted.size());
  for (size_t i = 0; i < sorted.size(); ++i)
    scaled[i] = std::ldexp(sorted[i], -exponent);
  MeanAndStddevUnscaled(scaled, mean, stddev);
  *mean = std::clamp(std::ldexp(*mean, exponent), sorted.front(), sorted.back());
  *stddev = std::ldexp(*stddev, exponent);
}

// Whether nlohmann (and so the artifact's JSON) accepts `s` as a string: valid UTF-8.
bool IsUtf8(const std::string& s) {
  try {
    (void)ordered_json(s).dump();
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

base::Result<std::vector<double>> SortedNumbers(const TransformArtifact& a, const Column& values) {
  if (!IsNumericColumn(values.type())) {
    return base::InvalidArgument(Describe(a) + " needs a double, int64 or bool column, got " +
                                 std::string(types::LogicalTypeName(values.type())));
  }
  std::vector<double> xs;
  xs.reserve(values.size());
  for (size_t row = 0; row < values.size(); ++row) {
    if (!values.IsValid(row)) continue;
    const double x = NumberAt(values, row);
    if (!std::isfinite(x)) {
      return base::InvalidArgument(Describe(a) + ": cannot fit on the non-finite value " +
                                   values.ValueToString(row) + " at row " + std::to_string(row));
    }
    xs.push_back(x);
  }
  if (xs.empty()) return base::InvalidArgument(Describe(a) + ": no non-null values to fit on");
  std::sort(xs.begin(), xs.end(), TotalLess);
  return xs;
}

base::Status FitCategories(const Column& values, TransformArtifact* a) {
  std::unordered_set<std::string> seen;
  for (size_t row = 0; row < values.size(); ++row) {
    if (!values.IsValid(row)) continue;
    ++a->fitted_rows;
    seen.insert(CategoryText(values, row));
  }
  if (seen.empty()) return base::InvalidArgument(Describe(*a) + ": no non-null values to fit on");
  a->categories.assign(seen.begin(), seen.end());
  std::sort(a->categories.begin(), a->categories.end());
  for (const auto& c : a->categories) {
    if (a->type == TransformType::kOnehot && c == kUnknownCategory) {
      return base::InvalidArgument(Describe(*a) + ": the value '" + c +
                                   "' collides with the unknown bucket's column name");
    }
    if (!IsUtf8(c)) return base::InvalidArgument(Describe(*a) + ": a value is not valid UTF-8");
  }
  return base::Status::Ok();
}

base::Status FitConstant(const config::TransformSpec& spec, const Column& values,
                         TransformArtifact* a) {
  if (!spec.value) return base::InvalidArgument(Describe(*a) + ": strategy constant needs a value");
  for (size_t row = 0; row < values.size(); ++row)
    a->fitted_rows += values.IsValid(row) ? 1 : 0;
  if (values.type() == LogicalType::kString) {
    if (!IsUtf8(*spec.value)) {
      return base::InvalidArgument(Describe(*a) + ": value is not valid UTF-8");
    }
    a->fill_is_text = true;
    a->fill_text = *spec.value;
    return base::Status::Ok();
  }
  if (!IsNumericColumn(values.type())) {
    return base::InvalidArgument(Describe(*a) +
                                 " needs a double, int64, bool or string column, got " +
                                 std::string(types::LogicalTypeName(values.type())));
  }
  const std::string& s = *spec.value;
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || !std::isfinite(v)) {
    return base::InvalidArgument(Describe(*a) + ": value '" + s +
                                 "' is not a finite number, as a numeric column needs");
  }
  a->fill = v;
  return base::Status::Ok();
}

// --- JSON -------------------------------------------------------------------------------------

// The keys of an artifact of `a`'s type (and strategy), in canonical order.
std::vector<std::string_view> KeysOf(const TransformArtifact& a) {
  std::vector<std::string_view> keys = {"format_version", "feature", "type"};
  if (a.type == TransformType::kImpute) keys.push_back("strategy");
  keys.insert(keys.end(), {"fitted_on", "fitted_rows"});
  switch (a.type) {
    case TransformType::kMinmax:
      break;
    case TransformType::kZscore:
      keys.insert(keys.end(), {"mean", "stddev"});
      break;
    case TransformType::kClip:
      keys.insert(keys.end(), {"lower_quantile", "upper_quantile", "lower", "upper"});
      break;
    case TransformType::kOnehot:
    case TransformType::kOrdinal:
      keys.push_back("categories");
      break;
    case TransformType::kImpute:
      keys.push_back("fill");
      break;
  }
  if (ReportsRange(a)) keys.insert(keys.end(), {"min", "max"});
  return keys;
}

// Typed access that names the key on failure instead of throwing; the first failure sticks.
class Reader {
 public:
  explicit Reader(const ordered_json& obj) : obj_(obj) {}
  const base::Status& status() const { return status_; }

  void Fail(const std::string& key, const std::string& what) {
    if (status_.ok()) status_ = base::Corruption("transform artifact: key '" + key + "' " + what);
  }

  // The value at `key`, or nullptr (after recording the failure) if it is missing.
  const ordered_json* Find(const std::string& key) {
    if (!status_.ok()) return nullptr;
    auto it = obj_.find(key);
    if (it == obj_.end()) {
      Fail(key, "is missing");
      return nullptr;
    }
    return &*it;
  }
  std::string String(const std::string& key) {
    const ordered_json* v = Find(key);
    if (v == nullptr) return {};
    if (!v->is_string()) {
      Fail(key, "must be a string");
      return {};
    }
    return v->get<std::string>();
  }
  std::int64_t Int(const std::string& key) {
    const ordered_json* v = Find(key);
    if (v == nullptr) return 0;
    if (!v->is_number_integer()) {
      Fail(key, "must be an integer");
      return 0;
    }
    if (v->is_number_unsigned() &&
        v->get<std::uint64_t>() >
            static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      Fail(key, "is out of range");
      return 0;
    }
    return v->get<std::int64_t>();
  }
  double Number(const std::string& key) {
    const ordered_json* v = Find(key);
    return v == nullptr ? 0 : NumberOf(key, *v);
  }
  // A number that was found: it must be one and finite (JSON has no infinities; "1e999" reads as
  // one and could not be written back).
  double NumberOf(const std::string& key, const ordered_json& v) {
    if (!v.is_number()) {
      Fail(key, "must be a number");
      return 0;
    }
    const double d = v.get<double>();
    if (!std::isfinite(d)) Fail(key, "must be a finite number");
    return d;
  }

 private:
  const ordered_json& obj_;
  base::Status status_;
};

template <typename E, size_t N>
std::optional<E> FromName(const std::array<E, N>& all, std::string_view name) {
  for (E v : all) {
    if (config::Name(v) == name) return v;
  }
  return std::nullopt;
}

// Checks the parameters of a parsed artifact hang together, naming the first key that does not.
void CheckConsistent(const TransformArtifact& a, Reader* r) {
  if (a.fitted_rows < 0) r->Fail("fitted_rows", "must not be negative");
  if (ReportsRange(a) && a.min > a.max) r->Fail("max", "must not be less than min");
  if (a.type == TransformType::kZscore && a.stddev < 0) r->Fail("stddev", "must not be negative");
  if (a.type == TransformType::kClip) {
    if (a.lower_quantile < 0 || a.lower_quantile > 1)
      r->Fail("lower_quantile", "must be in [0, 1]");
    if (a.upper_quantile < 0 || a.upper_quantile > 1)
      r->Fail("upper_quantile", "must be in [0, 1]");
    if (a.lower_quantile >= a.upper_quantile) {
      r->Fail("upper_quantile", "must be greater than lower_quantile");
    }
    if (a.lower > a.upper) r->Fail("upper", "must not be less than lower");
  }
  for (size_t i = 0; i < a.categories.size(); ++i) {
    if (i > 0 && !(a.categories[i - 1] < a.categories[i])) {
      r->Fail("categories", "must be sorted and distinct");
    }
    if (a.type == TransformType::kOnehot && a.categories[i] == kUnknownCategory) {
      r->Fail("categories", "must not contain the unknown bucket's name");
    }
  }
}

// --- Apply ------------------------------------------------------------------------------------

// The 0-based index of `text` among the sorted categories, or categories.size() if unseen.
// Binary search over the artifact itself: nothing to build per call, which keeps the one-row
// serving call cheap.
size_t CategoryIndex(const std::vector<std::string>& categories, std::string_view text) {
  auto it = std::lower_bound(
      categories.begin(), categories.end(), text,
      [](const std::string& c, std::string_view t) { return std::string_view(c) < t; });
  if (it != categories.end() && *it == text) return static_cast<size_t>(it - categories.begin());
  return categories.size();
}

double ApplyNumber(const TransformArtifact& a, double x) {
  switch (a.type) {
    case TransformType::kMinmax: {
      if (a.max == a.min) return 0;
      const double y = (x - a.min) / (a.max - a.min);
      return std::isnan(y) ? y : std::clamp(y, 0.0, 1.0);
    }
    case TransformType::kZscore:
      return a.stddev == 0 ? 0 : (x - a.mean) / a.stddev;
    case TransformType::kClip:
      return std::isnan(x) ? x : std::clamp(x, a.lower, a.upper);
    default:  // impute: present values pass through
      return x;
  }
}

}  // namespace

std::string ToJson(const TransformArtifact& a) {
  ordered_json j;
  for (std::string_view k : KeysOf(a)) {
    const std::string key(k);
    if (key == "format_version") {
      j[key] = kTransformArtifactFormatVersion;
    } else if (key == "feature") {
      j[key] = a.feature;
    } else if (key == "type") {
      j[key] = config::Name(a.type);
    } else if (key == "strategy") {
      j[key] = config::Name(a.strategy.value_or(ImputeStrategy::kMean));
    } else if (key == "fitted_on") {
      j[key] = a.fitted_on;
    } else if (key == "fitted_rows") {
      j[key] = a.fitted_rows;
    } else if (key == "mean") {
      j[key] = a.mean;
    } else if (key == "stddev") {
      j[key] = a.stddev;
    } else if (key == "lower_quantile") {
      j[key] = a.lower_quantile;
    } else if (key == "upper_quantile") {
      j[key] = a.upper_quantile;
    } else if (key == "lower") {
      j[key] = a.lower;
    } else if (key == "upper") {
      j[key] = a.upper;
    } else if (key == "categories") {
      j[key] = a.categories;
    } else if (key == "fill") {
      if (a.fill_is_text) {
        j[key] = a.fill_text;
      } else {
        j[key] = a.fill;
      }
    } else if (key == "min") {
      j[key] = a.min;
    } else if (key == "max") {
      j[key] = a.max;
    }
  }
  // nlohmann writes doubles in the shortest form that reads back to the same bits ("-0.0",
  // "5e-324"). Fit and ParseTransformArtifact only admit UTF-8 text; an artifact built by hand with
  // other bytes gets U+FFFD instead of an exception.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

base::Result<TransformArtifact> ParseTransformArtifact(std::string_view json) {
  ordered_json j;
  try {
    j = ordered_json::parse(json);
  } catch (const nlohmann::json::exception& e) {
    // nlohmann's message gives the byte position (and catches a number too big for a double).
    return base::Corruption(std::string("transform artifact: not valid JSON: ") + e.what());
  }
  if (!j.is_object()) return base::Corruption("transform artifact: expected a JSON object");
  Reader r(j);
  TransformArtifact a;
  const std::int64_t version = r.Int("format_version");
  if (r.status().ok() && version != kTransformArtifactFormatVersion) {
    return base::Corruption("transform artifact: format_version " + std::to_string(version) +
                            " is not supported (this sluice reads " +
                            std::to_string(kTransformArtifactFormatVersion) + ")");
  }
  a.feature = r.String("feature");
  const std::string type = r.String("type");
  if (!r.status().ok()) return r.status();
  const auto t = FromName(kAllTypes, type);
  if (!t)
    return base::Corruption("transform artifact: key 'type' has unknown value '" + type + "'");
  a.type = *t;
  if (a.type == TransformType::kImpute) {
    const std::string strategy = r.String("strategy");
    if (!r.status().ok()) return r.status();
    a.strategy = FromName(kAllStrategies, strategy);
    if (!a.strategy) {
      return base::Corruption("transform artifact: key 'strategy' has unknown value '" + strategy +
                              "'");
    }
  }
  // Whether the fill is text decides nothing about which keys exist, so the key set is known now.
  const auto keys = KeysOf(a);
  for (const auto& [key, value] : j.items()) {
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      return base::Corruption("transform artifact: key '" + key + "' is not used by " +
                              std::string(config::Name(a.type)) + " transforms");
    }
  }
  a.fitted_on = r.String("fitted_on");
  a.fitted_rows = r.Int("fitted_rows");
  switch (a.type) {
    case TransformType::kMinmax:
      break;
    case TransformType::kZscore:
      a.mean = r.Number("mean");
      a.stddev = r.Number("stddev");
      break;
    case TransformType::kClip:
      a.lower_quantile = r.Number("lower_quantile");
      a.upper_quantile = r.Number("upper_quantile");
      a.lower = r.Number("lower");
      a.upper = r.Number("upper");
      break;
    case TransformType::kOnehot:
    case TransformType::kOrdinal:
      if (const ordered_json* cs = r.Find("categories")) {
        if (!cs->is_array()) {
          r.Fail("categories", "must be a list of strings");
          break;
        }
        for (const auto& c : *cs) {
          if (!c.is_string()) {
            r.Fail("categories", "must be a list of strings");
            break;
          }
          a.categories.push_back(c.get<std::string>());
        }
      }
      break;
    case TransformType::kImpute:
      if (const ordered_json* fill = r.Find("fill")) {
        if (fill->is_string() && a.strategy == ImputeStrategy::kConstant) {
          a.fill_is_text = true;
          a.fill_text = fill->get<std::string>();
        } else {
          a.fill = r.NumberOf("fill", *fill);
        }
      }
      break;
  }
  if (ReportsRange(a)) {
    a.min = r.Number("min");
    a.max = r.Number("max");
  }
  CheckConsistent(a, &r);
  if (!r.status().ok()) return r.status();
  return a;
}

std::string ArtifactId(const TransformArtifact& a) {
  return lake::Sha256Hex(ToJson(a));
}

base::Result<TransformArtifact> Fit(const config::TransformSpec& spec, const Column& values,
                                    const std::string& fitted_on) {
  TransformArtifact a;
  a.feature = spec.feature;
  a.type = spec.type;
  a.fitted_on = fitted_on;
  if (!IsUtf8(a.feature) || !IsUtf8(a.fitted_on)) {
    return base::InvalidArgument(Describe(a) + ": the feature name and fitted_on must be UTF-8");
  }
  if (a.type == TransformType::kOnehot || a.type == TransformType::kOrdinal) {
    SLUICE_RETURN_IF_ERROR(FitCategories(values, &a));
    return a;
  }
  if (a.type == TransformType::kImpute) {
    if (!spec.strategy) return base::InvalidArgument(Describe(a) + ": impute needs a strategy");
    a.strategy = spec.strategy;
    if (a.strategy == ImputeStrategy::kConstant) {
      SLUICE_RETURN_IF_ERROR(FitConstant(spec, values, &a));
      return a;
    }
  }
  if (a.type == TransformType::kClip) {
    a.lower_quantile = spec.lower_quantile.value_or(0.0);
    a.upper_quantile = spec.upper_quantile.value_or(1.0);
    for (auto [key, q] : {std::pair{"lower_quantile", a.lower_quantile},
                          std::pair{"upper_quantile", a.upper_quantile}}) {
      if (!(q >= 0 && q <= 1)) {
        return base::InvalidArgument(Describe(a) + ": " + key + " must be in [0, 1]");
      }
    }
    if (a.lower_quantile >= a.upper_quantile) {
      return base::InvalidArgument(Describe(a) +
                                   ": lower_quantile must be less than upper_quantile");
    }
  }
  SLUICE_ASSIGN_OR_RETURN(const std::vector<double> xs, SortedNumbers(a, values));
  a.fitted_rows = static_cast<std::int64_t>(xs.size());
  a.min = xs.front();
  a.max = xs.back();
  switch (a.type) {
    case TransformType::kZscore:
      MeanAndStddev(xs, &a.mean, &a.stddev);
      if (!std::isfinite(a.mean) || !std::isfinite(a.stddev)) {
        return base::InvalidArgument(Describe(a) +
                                     ": the values are too large to standardize (overflow)");
      }
      break;
    case TransformType::kClip:
      a.lower = LowerQuantile(xs, a.lower_quantile);
      a.upper = LowerQuantile(xs, a.upper_quantile);
      break;
    case TransformType::kImpute:
      if (a.strategy == ImputeStrategy::kMedian) {
        a.fill = LowerQuantile(xs, 0.5);
      } else {
        double stddev = 0;
        MeanAndStddev(xs, &a.fill, &stddev);
        if (!std::isfinite(a.fill)) {
          return base::InvalidArgument(Describe(a) + ": the values are too large to average");
        }
      }
      break;
    default:
      break;
  }
  return a;
}

std::vector<types::Field> OutputFields(const TransformArtifact& a, LogicalType input_type) {
  (void)input_type;  // every output type follows from the artifact; kept for callers' symmetry
  switch (a.type) {
    case TransformType::kMinmax:
    case TransformType::kZscore:
    case TransformType::kClip:
      return {{a.feature, LogicalType::kDouble, true}};
    case TransformType::kImpute:
      return {{a.feature, a.fill_is_text ? LogicalType::kString : LogicalType::kDouble, false}};
    case TransformType::kOrdinal:
      return {{a.feature, LogicalType::kInt64, false}};
    case TransformType::kOnehot: {
      std::vector<types::Field> fields;
      fields.reserve(a.categories.size() + 1);
      for (const auto& c : a.categories) {
        fields.push_back({a.feature + "=" + c, LogicalType::kInt64, false});
      }
      fields.push_back(
          {a.feature + "=" + std::string(kUnknownCategory), LogicalType::kInt64, false});
      return fields;
    }
  }
  return {};
}

std::vector<Column> MakeOutputColumns(const TransformArtifact& a, LogicalType input_type) {
  std::vector<Column> columns;
  for (const auto& f : OutputFields(a, input_type))
    columns.emplace_back(f.type);
  return columns;
}

base::Status Apply(const TransformArtifact& a, const Column& input, std::vector<Column>* outputs) {
  const bool numeric = IsNumeric(a);
  if (numeric && !IsNumericColumn(input.type())) {
    return base::InvalidArgument(Describe(a) + " needs a double, int64 or bool column, got " +
                                 std::string(types::LogicalTypeName(input.type())));
  }
  if (a.type == TransformType::kImpute && a.fill_is_text && input.type() != LogicalType::kString) {
    return base::InvalidArgument(Describe(a) + " has a text fill and needs a string column, got " +
                                 std::string(types::LogicalTypeName(input.type())));
  }
  const auto fields = OutputFields(a, input.type());
  if (outputs->size() != fields.size()) {
    return base::InvalidArgument(Describe(a) + " produces " + std::to_string(fields.size()) +
                                 " columns, but " + std::to_string(outputs->size()) +
                                 " were given");
  }
  for (size_t i = 0; i < fields.size(); ++i) {
    if ((*outputs)[i].type() != fields[i].type) {
      return base::InvalidArgument(Describe(a) + ": output column '" + fields[i].name +
                                   "' must be " +
                                   std::string(types::LogicalTypeName(fields[i].type)));
    }
  }
  const size_t n = input.size();
  for (auto& out : *outputs)
    out.Reserve(out.size() + n);

  if (a.type == TransformType::kOnehot || a.type == TransformType::kOrdinal) {
    const size_t unknown = a.categories.size();
    for (size_t row = 0; row < n; ++row) {
      size_t index = unknown;
      if (input.IsValid(row)) {
        index = input.type() == LogicalType::kString
                    ? CategoryIndex(a.categories, input.GetString(row))
                    : CategoryIndex(a.categories, input.ValueToString(row));
      }
      if (a.type == TransformType::kOrdinal) {
        // 1..n for the categories, 0 for the unknown bucket.
        (*outputs)[0].AppendInt64(index == unknown ? 0 : static_cast<std::int64_t>(index) + 1);
      } else {
        for (size_t c = 0; c <= unknown; ++c)
          (*outputs)[c].AppendInt64(c == index ? 1 : 0);
      }
    }
    return base::Status::Ok();
  }

  Column& out = (*outputs)[0];
  if (a.type == TransformType::kImpute && a.fill_is_text) {
    for (size_t row = 0; row < n; ++row) {
      out.AppendString(input.IsValid(row) ? input.GetString(row) : std::string_view(a.fill_text));
    }
    return base::Status::Ok();
  }
  for (size_t row = 0; row < n; ++row) {
    if (!input.IsValid(row)) {
      if (a.type == TransformType::kImpute) {
        out.AppendDouble(a.fill);
      } else {
        out.AppendNull();
      }
      continue;
    }
    out.AppendDouble(ApplyNumber(a, NumberAt(input, row)));
  }
  return base::Status::Ok();
}

}  // namespace sluice::engine
