#include "engine/online_view.h"

#include <algorithm>
#include <atomic>
#include <cstdio>

#include "base/scalar_text.h"
#include "base/time.h"
#include "connectors/ingest.h"
#include "engine/view_loader.h"
#include "lake/atomic_file.h"

namespace sluice::engine {

using types::LogicalType;
using warehouse::QuoteIdentifier;
using warehouse::QuoteLiteral;

std::string_view StatusName(FeatureStatus s) {
  switch (s) {
    case FeatureStatus::kPresent:
      return "present";
    case FeatureStatus::kMissing:
      return "missing";
    case FeatureStatus::kExpired:
      return "expired";
  }
  return "missing";
}

namespace {

// A `defaults:` value as a one-row column of `type`; errors say what the text is instead.
base::Result<types::Column> ParseDefault(const std::string& text, LogicalType type) {
  types::Column c(type);
  switch (type) {
    case LogicalType::kInt64: {
      SLUICE_ASSIGN_OR_RETURN(std::int64_t v, base::ParseInt64(text));
      c.AppendInt64(v);
      break;
    }
    case LogicalType::kDouble: {
      SLUICE_ASSIGN_OR_RETURN(double v, base::ParseDouble(text));
      c.AppendDouble(v);
      break;
    }
    case LogicalType::kBool: {
      SLUICE_ASSIGN_OR_RETURN(bool v, base::ParseBool(text));
      c.AppendBool(v);
      break;
    }
    case LogicalType::kString:
      c.AppendString(text);
      break;
    case LogicalType::kTimestamp: {
      SLUICE_ASSIGN_OR_RETURN(std::int64_t v, base::ParseTimestampMicros(text));
      c.AppendTimestamp(v);
      break;
    }
    case LogicalType::kDate: {
      SLUICE_ASSIGN_OR_RETURN(std::int64_t v, base::ParseTimestampMicros(text));
      constexpr std::int64_t kMicrosPerDay = 86'400'000'000;
      if (v % kMicrosPerDay != 0) {
        return base::InvalidArgument("'" + text + "' is not a date (YYYY-MM-DD)");
      }
      c.AppendDate(static_cast<std::int32_t>(v / kMicrosPerDay));
      break;
    }
  }
  return c;
}

std::string DefaultError(const config::FeatureViewSpec& view, const std::string& feature,
                         LogicalType type, const base::Status& s) {
  return "feature view '" + view.name + "': defaults." + feature + ": " + s.message() +
         ", and feature '" + feature + "' is " + std::string(types::LogicalTypeName(type));
}

// Each default parsed as a value of its served feature's type: aggregations by their plan,
// derived features by DuckDB's type for their expression, transformed features by the
// transform's output. A feature whose type cannot be found here is parsed when read.
base::Result<std::map<std::string, types::Column>> ParseDefaults(
    const config::FeatureViewSpec& view, const FeatureViewPlan& plan,
    const std::vector<std::pair<std::string, TransformArtifact>>& transforms,
    warehouse::DuckDb& db) {
  std::map<std::string, types::Column> out;
  if (view.defaults.empty()) return out;
  std::map<std::string, LogicalType> types_by_name;
  std::string inputs = "TIMESTAMP '1970-01-01 00:00:00' AS as_of";
  for (const auto& a : plan.aggregations) {
    types_by_name[a.name] = a.output_type;
    inputs += ", NULL::" + std::string(warehouse::DuckDbTypeName(a.output_type)) + " AS " +
              QuoteIdentifier(a.name);
  }
  std::string derived;
  for (const auto& d : view.derived) {
    derived += (derived.empty() ? "" : ", ") + ("(" + d.expr + ") AS " + QuoteIdentifier(d.name));
  }
  if (!derived.empty()) {
    // A broken expression is reported by Read, as before; here it only leaves types unknown.
    auto typed = db.Query("SELECT " + derived + " FROM (SELECT " + inputs + ") LIMIT 0");
    if (typed.ok()) {
      for (size_t i = 0; i < typed->num_columns(); ++i) {
        types_by_name[typed->schema().field(i).name] = typed->schema().field(i).type;
      }
    }
  }
  for (const auto& [feature, artifact] : transforms) {
    auto it = types_by_name.find(feature);
    if (it == types_by_name.end()) continue;
    const LogicalType input = it->second;
    types_by_name.erase(it);
    for (const auto& f : OutputFields(artifact, input))
      types_by_name[f.name] = f.type;
  }
  for (const auto& [feature, text] : view.defaults) {
    auto it = types_by_name.find(feature);
    if (it == types_by_name.end()) continue;
    auto parsed = ParseDefault(text, it->second);
    if (!parsed.ok()) {
      return base::InvalidArgument(DefaultError(view, feature, it->second, parsed.status()));
    }
    out.emplace(feature, std::move(*parsed));
  }
  return out;
}

}  // namespace

base::Result<std::unique_ptr<OnlineView>> OnlineView::Load(const config::ProjectSpec& project,
                                                           const config::FeatureViewSpec& view,
                                                           const lake::Lake& lake,
                                                           const std::string& source_version,
                                                           warehouse::DuckDb& db) {
  SLUICE_ASSIGN_OR_RETURN(lake::Manifest source, lake.FindVersion(source_version));
  SLUICE_ASSIGN_OR_RETURN(FeatureViewPlan plan, LoadPlan(project, view, lake, source, db));
  std::vector<std::pair<std::string, TransformArtifact>> transforms;
  for (const auto& t : view.transforms) {
    SLUICE_ASSIGN_OR_RETURN(std::optional<lake::Manifest> current,
                            lake.Current("_transform." + view.name + "." + t.feature));
    if (!current || current->outputs.empty()) {
      if (!t.fit_on) {
        // A constant imputation needs no fitting.
        SLUICE_ASSIGN_OR_RETURN(TransformArtifact a,
                                Fit(t, types::Column(LogicalType::kDouble), ""));
        transforms.emplace_back(t.feature, std::move(a));
        continue;
      }
      return base::FailedPrecondition("feature '" + view.name + ":" + t.feature +
                                      "' has a transform fitted on training set '" + *t.fit_on +
                                      "', which has not been built: run `sluice training-set " +
                                      *t.fit_on + "` first");
    }
    SLUICE_ASSIGN_OR_RETURN(std::string json,
                            lake::ReadFile(lake.ObjectPath(current->outputs[0].sha256)));
    SLUICE_ASSIGN_OR_RETURN(TransformArtifact a, ParseTransformArtifact(json));
    transforms.emplace_back(t.feature, std::move(a));
  }
  SLUICE_ASSIGN_OR_RETURN(auto defaults, ParseDefaults(view, plan, transforms, db));
  return std::unique_ptr<OnlineView>(
      new OnlineView(view, std::move(plan), std::move(transforms), std::move(defaults)));
}

std::uint64_t OnlineView::NextId() {
  static std::atomic<std::uint64_t> next{1};
  return next.fetch_add(1, std::memory_order_relaxed);
}

bool OnlineView::HasFeature(std::string_view name) const {
  return std::find(feature_names_.begin(), feature_names_.end(), name) != feature_names_.end();
}

std::string OnlineView::FeatureVersion(std::string_view feature) const {
  std::string v = plan_.definition_hash.substr(0, 12);
  for (const auto& [f, a] : transforms_) {
    if (f == feature) v += "+" + ArtifactId(a).substr(0, 12);
  }
  return v;
}

namespace {

std::string SqlLiteral(const types::Column& c, size_t row) {
  if (!c.IsValid(row)) {
    return "NULL::" + std::string(warehouse::DuckDbTypeName(c.type()));
  }
  switch (c.type()) {
    case LogicalType::kString:
      return QuoteLiteral(c.GetString(row));
    case LogicalType::kDouble: {
      char buf[40];
      std::snprintf(buf, sizeof(buf), "%.17g", c.GetDouble(row));
      return std::string(buf) + "::DOUBLE";
    }
    case LogicalType::kTimestamp:
      return "TIMESTAMP " + QuoteLiteral(base::FormatTimestampMicros(c.GetTimestamp(row)));
    case LogicalType::kDate:
      return "DATE " + QuoteLiteral(c.ValueToString(row));
    default:
      return c.ValueToString(row) + "::" + std::string(warehouse::DuckDbTypeName(c.type()));
  }
}

// This thread's StateEvaluator for view `id`, built on first use. A server thread reads a few
// views over and over, so a handful are kept (the least recently built one goes); an entry of
// a view that no longer exists is never asked for again, since ids are never reused.
StateEvaluator& ThreadEvaluator(std::uint64_t id, const FeatureViewPlan& plan) {
  constexpr size_t kKept = 8;
  thread_local std::vector<std::pair<std::uint64_t, std::unique_ptr<StateEvaluator>>> kept;
  for (auto& [kept_id, evaluator] : kept) {
    if (kept_id == id) return *evaluator;
  }
  if (kept.size() == kKept) kept.erase(kept.begin());
  kept.emplace_back(id, std::make_unique<StateEvaluator>(plan));
  return *kept.back().second;
}

}  // namespace

base::Result<types::Column> OnlineView::DefaultValue(const std::string& name,
                                                     LogicalType type) const {
  if (auto it = defaults_.find(name); it != defaults_.end() && it->second.type() == type) {
    return it->second;
  }
  auto text = spec_.defaults.find(name);
  if (text == spec_.defaults.end()) {
    types::Column c(type);
    c.AppendNull();
    return c;
  }
  // A type Load could not tell (or that changed since): parsed here, a bad value is the
  // project's problem, not the request's.
  auto parsed = ParseDefault(text->second, type);
  if (!parsed.ok()) {
    return base::FailedPrecondition(DefaultError(spec_, name, type, parsed.status()));
  }
  return parsed;
}

base::Result<std::vector<OnlineFeature>> OnlineView::Read(
    std::optional<std::string_view> state, std::int64_t t, const std::vector<std::string>& names,
    warehouse::DuckDb& db, std::string_view entity, const PartLookup& parts) const {
  const std::vector<std::string>& wanted = names.empty() ? feature_names_ : names;
  for (const auto& n : wanted) {
    if (!HasFeature(n)) {
      return base::InvalidArgument("feature view '" + spec_.name + "' has no feature '" + n + "'");
    }
  }
  // An entity without history (nullopt) reads like a replay's: counts are 0, other
  // aggregations empty.
  StateEvaluator& evaluator = ThreadEvaluator(id_, plan_);
  SLUICE_RETURN_IF_ERROR(evaluator.Evaluate(state, t, entity, parts));
  const std::vector<FeatureValues>& values = evaluator.values();
  const bool known = state.has_value();
  FeatureStatus absent = FeatureStatus::kMissing;
  if (known && plan_.ttl && evaluator.newest_event() <= t - *plan_.ttl) {
    absent = FeatureStatus::kExpired;
  }

  std::string derived_select;
  for (const auto& d : spec_.derived) {
    if (std::find(wanted.begin(), wanted.end(), d.name) == wanted.end()) continue;
    derived_select +=
        (derived_select.empty() ? "" : ", ") + ("(" + d.expr + ") AS " + QuoteIdentifier(d.name));
  }
  // Raw values by name (aggregations, then derived ones evaluated by DuckDB), built only when a
  // derived feature is wanted: DuckDB needs them all. Without one, each wanted feature's column
  // comes straight from its aggregation, which saves a name and a column per aggregation per
  // entity on the serving path.
  const bool use_raw = !derived_select.empty();
  std::vector<std::pair<std::string, types::Column>> raw;
  if (use_raw) {
    raw.reserve(plan_.aggregations.size() + spec_.derived.size());
    for (size_t a = 0; a < plan_.aggregations.size(); ++a) {
      raw.emplace_back(plan_.aggregations[a].name, values[a].ToColumn());
    }
    std::string inputs = "TIMESTAMP " + QuoteLiteral(base::FormatTimestampMicros(t)) + " AS as_of";
    for (const auto& [name, col] : raw)
      inputs += ", " + SqlLiteral(col, 0) + " AS " + QuoteIdentifier(name);
    auto derived = db.Query("SELECT " + derived_select + " FROM (SELECT " + inputs + ")");
    if (!derived.ok()) {
      return base::InvalidArgument("feature view '" + spec_.name +
                                   "', derived features: " + derived.status().message());
    }
    for (size_t i = 0; i < derived->num_columns(); ++i) {
      raw.emplace_back(derived->schema().field(i).name, std::move(derived->column(i)));
    }
  }
  auto raw_value = [&](const std::string& name) -> types::Column {
    if (use_raw) {
      auto it =
          std::find_if(raw.begin(), raw.end(), [&](const auto& p) { return p.first == name; });
      return it->second;
    }
    size_t a = 0;
    while (plan_.aggregations[a].name != name)
      ++a;  // wanted names were checked above, and without derived ones all are aggregations
    return values[a].ToColumn();
  };

  std::vector<OnlineFeature> out;
  out.reserve(wanted.size());
  auto emit = [&](const std::string& fname, types::Column fcol) -> base::Status {
    OnlineFeature f(fcol.type());
    f.name = fname;
    const bool expired = known && absent == FeatureStatus::kExpired;
    if (!expired && fcol.IsValid(0) && (known || !plan_.ttl)) {
      // No history: a count of 0 is a fact, but say the entity is unknown.
      f.status = known ? FeatureStatus::kPresent : FeatureStatus::kMissing;
      f.value = std::move(fcol);
    } else {
      f.status = expired ? FeatureStatus::kExpired : FeatureStatus::kMissing;
      auto value = DefaultValue(fname, fcol.type());
      if (!value.ok()) return value.status();
      f.value = std::move(*value);
    }
    out.push_back(std::move(f));
    return base::Status::Ok();
  };
  for (const auto& name : wanted) {
    auto t_it = std::find_if(transforms_.begin(), transforms_.end(),
                             [&](const auto& p) { return p.first == name; });
    if (t_it == transforms_.end()) {
      SLUICE_RETURN_IF_ERROR(emit(name, raw_value(name)));
      continue;
    }
    const types::Column col = raw_value(name);
    std::vector<types::Column> applied = MakeOutputColumns(t_it->second, col.type());
    SLUICE_RETURN_IF_ERROR(Apply(t_it->second, col, &applied));
    const auto fields = OutputFields(t_it->second, col.type());
    for (size_t k = 0; k < applied.size(); ++k)
      SLUICE_RETURN_IF_ERROR(emit(fields[k].name, std::move(applied[k])));
  }
  return out;
}

}  // namespace sluice::engine
