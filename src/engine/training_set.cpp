#include "engine/training_set.h"

#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <memory>
#include <random>
#include <set>
#include <system_error>

#include "base/build_version.h"
#include "base/kill_point.h"
#include "base/log.h"
#include "connectors/ingest.h"
#include "engine/feature_plan.h"
#include "engine/transform.h"
#include "engine/view_loader.h"
#include "lake/atomic_file.h"
#include "lake/content_hash.h"
#include "lake/staging_dir.h"
#include "warehouse/duckdb_database.h"

namespace sluice::engine {
namespace fs = std::filesystem;

using types::LogicalType;
using warehouse::QuoteIdentifier;
using warehouse::QuoteLiteral;

namespace {

constexpr const char* kDatasetInput = "dataset:";
constexpr const char* kFileInput = "file:";
// The engine's semantics version (kSemanticsVersion): "engine:semantics@N". Training sets
// built before it was recorded were computed with version 1.
constexpr const char* kSemanticsInput = "engine:semantics@";
// Memory estimates for choosing passes: an event as the replay holds it (keys, time, a few
// inputs, grouping indices), a spine row (keys, time, row number).
constexpr std::int64_t kEventBytes = 24 + 8 * 4;
constexpr std::int64_t kSpineRowBytes = 32;
constexpr const char* kTransformInput = "transform:";
// The hidden count marking rows whose entity is present under the view's TTL (BuildView).
constexpr const char* kPresentColumn = "__sluice_present";
// Every connection the build reads through (the events scan opens more than one).
const std::string kSessionSql =
    std::string(warehouse::kFeatureSqlSession) + "; SET preserve_insertion_order = true";

struct ViewRequest {
  const config::FeatureViewSpec* view = nullptr;
  std::vector<std::string> features;  // aggregations and derived features, in request order
};

base::Result<std::vector<ViewRequest>> SelectFeatures(const config::ProjectSpec& project,
                                                      const config::TrainingSetSpec& spec) {
  std::vector<ViewRequest> out;
  auto request_for = [&](const config::FeatureViewSpec* v) -> ViewRequest& {
    for (auto& r : out) {
      if (r.view == v) return r;
    }
    out.push_back({v, {}});
    return out.back();
  };
  for (const auto& f : spec.features) {
    const auto colon = f.find(':');
    const std::string view_name = f.substr(0, colon);
    const auto* view = project.FindFeatureView(view_name);
    if (view == nullptr) return base::InvalidArgument("unknown feature view '" + view_name + "'");
    ViewRequest& r = request_for(view);
    auto add = [&](const std::string& name) {
      if (std::find(r.features.begin(), r.features.end(), name) == r.features.end()) {
        r.features.push_back(name);
      }
    };
    if (colon == std::string::npos) {
      for (const auto& a : view->aggregations)
        add(a.name);
      for (const auto& d : view->derived)
        add(d.name);
      continue;
    }
    const std::string feature = f.substr(colon + 1);
    const bool known = std::any_of(view->aggregations.begin(), view->aggregations.end(),
                                   [&](const auto& a) { return a.name == feature; }) ||
                       std::any_of(view->derived.begin(), view->derived.end(),
                                   [&](const auto& d) { return d.name == feature; });
    if (!known) {
      return base::InvalidArgument("'" + f + "': feature view '" + view_name +
                                   "' has no aggregation or derived feature '" + feature +
                                   "' (row-level columns are inputs: aggregate them)");
    }
    add(feature);
  }
  return out;
}

base::Result<lake::Manifest> ResolveDataset(const lake::Lake& lake, const std::string& name,
                                            const TrainingSetOptions& options) {
  if (auto it = options.pinned_versions.find(name); it != options.pinned_versions.end()) {
    SLUICE_ASSIGN_OR_RETURN(lake::Manifest m, lake.FindVersion(it->second));
    if (m.dataset != name) {
      return base::Corruption("version " + it->second + " belongs to '" + m.dataset + "', not '" +
                              name + "'");
    }
    return m;
  }
  SLUICE_ASSIGN_OR_RETURN(std::optional<lake::Manifest> current, lake.Current(name));
  if (!current) {
    return base::FailedPrecondition("dataset '" + name +
                                    "' has no version yet: run `sluice ingest " + name +
                                    "` (or `sluice build` for a model) first");
  }
  return *current;
}

std::string TransformDataset(const std::string& view, const std::string& feature) {
  return "_transform." + view + "." + feature;
}

std::string TransformDefinitionHash(const config::TransformSpec& t) {
  std::string text = "feature=" + t.feature + ";type=" + std::string(config::Name(t.type)) +
                     ";fit_on=" + t.fit_on.value_or("") +
                     ";strategy=" + (t.strategy ? std::string(config::Name(*t.strategy)) : "") +
                     ";value=" + t.value.value_or("") +
                     ";lq=" + std::to_string(t.lower_quantile.value_or(-1)) +
                     ";uq=" + std::to_string(t.upper_quantile.value_or(-1));
  return lake::Sha256Hex(text);
}

class Builder {
 public:
  Builder(const config::ProjectSpec& project, const config::TrainingSetSpec& spec, lake::Lake& lake,
          registry::Registry& registry, base::Clock& clock, const TrainingSetOptions& options)
      : project_(project),
        spec_(spec),
        lake_(lake),
        registry_(registry),
        clock_(clock),
        options_(options) {}

  base::Result<TrainingSetResult> Run();

 private:
  void Progress(const std::string& stage, double f) {
    if (options_.progress) options_.progress(stage, f);
  }
  base::Status LoadSpine();
  base::Status BuildView(size_t index, const ViewRequest& request);
  // How many key-partitioned passes the view's replay takes (see the definition).
  base::Result<int> PassesFor(const config::FeatureViewSpec& view, const FeatureViewPlan& plan,
                              const lake::Manifest& source, const std::string& keys_sql);
  base::Result<TransformArtifact> ArtifactFor(const config::FeatureViewSpec& view,
                                              const config::TransformSpec& t,
                                              const types::Column& raw);

  const config::ProjectSpec& project_;
  const config::TrainingSetSpec& spec_;
  lake::Lake& lake_;
  registry::Registry& registry_;
  base::Clock& clock_;
  const TrainingSetOptions& options_;
  std::optional<lake::StagingDir> scratch_;
  // Each view's output rows in spine order, read by the final COPY through db_: they outlive
  // it (declared first, destroyed last).
  std::vector<std::unique_ptr<types::Batch>> outputs_;
  std::optional<warehouse::DuckDb> db_;
  lake::Manifest manifest_;
  std::vector<std::string> definition_parts_;
  std::int64_t spine_rows_ = 0;
  int partitions_ = 1;
  TrainingSetResult result_;
};

base::Status Builder::LoadSpine() {
  std::string spine_sql;
  if (spec_.spine) {
    SLUICE_ASSIGN_OR_RETURN(lake::Manifest m, ResolveDataset(lake_, *spec_.spine, options_));
    spine_sql = connectors::DatasetSelectSql(lake_, m);
    manifest_.inputs.push_back({kDatasetInput + m.dataset + "@" + m.id, m.id, 0});
    manifest_.parents.push_back(m.id);
  } else if (spec_.spine_path) {
    const fs::path path = fs::path(*spec_.spine_path).is_absolute()
                              ? fs::path(*spec_.spine_path)
                              : project_.dir / *spec_.spine_path;
    SLUICE_ASSIGN_OR_RETURN(std::string sha, lake::Sha256File(path));
    std::error_code ec;
    manifest_.inputs.push_back(
        {kFileInput + *spec_.spine_path + "@" + sha, sha, fs::file_size(path, ec)});
    spine_sql = path.extension() == ".parquet"
                    ? "SELECT * FROM read_parquet(" + QuoteLiteral(path.string()) + ")"
                    : "SELECT * FROM read_csv(" + QuoteLiteral(path.string()) + ", header=true)";
  } else {
    return base::InvalidArgument("training set '" + spec_.name + "' has no spine");
  }
  // Row numbers follow the spine's own order, which is also the output order.
  base::Status created = db_->Execute(
      "CREATE TEMP TABLE __spine AS SELECT (row_number() OVER ()) - 1 AS __row, * FROM (" +
      spine_sql + ")");
  if (!created.ok()) return created.WithContext("reading the spine of '" + spec_.name + "'");
  auto described = db_->Query("DESCRIBE __spine");
  SLUICE_RETURN_IF_ERROR(described.status());
  std::set<std::string> columns;
  for (size_t r = 0; r < described->num_rows(); ++r) {
    columns.insert(std::string(described->column(0).GetString(r)));
  }
  std::vector<std::string> needed = spec_.keys;
  needed.push_back(spec_.timestamp);
  needed.insert(needed.end(), spec_.labels.begin(), spec_.labels.end());
  for (const auto& c : needed) {
    if (!columns.count(c)) {
      return base::InvalidArgument("training set '" + spec_.name + "': the spine has no column '" +
                                   c + "'");
    }
  }
  SLUICE_ASSIGN_OR_RETURN(spine_rows_, db_->QueryScalarInt64("SELECT count(*) FROM __spine"));
  return base::Status::Ok();
}

base::Result<TransformArtifact> Builder::ArtifactFor(const config::FeatureViewSpec& view,
                                                     const config::TransformSpec& t,
                                                     const types::Column& raw) {
  const std::string key = view.name + "." + t.feature;
  const std::string dataset = TransformDataset(view.name, t.feature);
  auto load = [&](const std::string& sha) -> base::Result<TransformArtifact> {
    SLUICE_ASSIGN_OR_RETURN(std::string json, lake::ReadFile(lake_.ObjectPath(sha)));
    return ParseTransformArtifact(json);
  };
  if (auto it = options_.pinned_artifacts.find(key); it != options_.pinned_artifacts.end()) {
    return load(it->second);
  }
  const std::string def_hash = TransformDefinitionHash(t);
  SLUICE_ASSIGN_OR_RETURN(std::optional<lake::Manifest> current, lake_.Current(dataset));
  const bool usable = current && current->definition_hash == def_hash && !current->outputs.empty();
  const bool fits_here = t.fit_on && *t.fit_on == spec_.name;
  const bool needs_no_data = !t.fit_on;  // impute with a constant
  if (usable && !(fits_here && options_.refit)) return load(current->outputs[0].sha256);
  if (!fits_here && !needs_no_data) {
    return base::FailedPrecondition("transform of '" + key + "' is fitted on training set '" +
                                    *t.fit_on + "': build `sluice training-set " + *t.fit_on +
                                    "` first");
  }
  // Fitted once, on this training set's raw values (recorded as the fingerprint of its inputs),
  // then reused until refitted explicitly.
  const std::string fitted_on =
      spec_.name + "@" + lake::Sha256Hex(manifest_.definition_hash + ToCanonicalJson(manifest_));
  SLUICE_ASSIGN_OR_RETURN(TransformArtifact artifact, Fit(t, raw, fitted_on));
  if (!options_.publish) return artifact;
  const fs::path file = scratch_->path() / ("artifact-" + key + ".json");
  SLUICE_RETURN_IF_ERROR(lake::WriteFileAtomic(file, ToJson(artifact)));
  SLUICE_ASSIGN_OR_RETURN(std::string sha, lake_.PutObject(file, /*move=*/true));
  lake::Manifest m;
  m.dataset = dataset;
  m.kind = "transform";
  m.created_at = base::FormatTime(clock_.Now());
  m.definition_hash = def_hash;
  m.sluice_version = base::kBuildVersion;
  m.schema = *types::Schema::Make({{t.feature, raw.type(), true}});
  m.rows = {artifact.fitted_rows, artifact.fitted_rows, 0};
  m.outputs.push_back({"artifact", sha, ToJson(artifact).size(), 0});
  SLUICE_ASSIGN_OR_RETURN(lake::Lake::PublishResult published, lake_.Publish(m));
  result_.fitted.push_back(key + " (" + std::string(config::Name(t.type)) + ", artifact " +
                           sha.substr(0, 12) + ")");
  SLUICE_ASSIGN_OR_RETURN(std::int64_t run, registry_.BeginRun("fit", dataset, m.created_at));
  registry::RunRecord rec;
  rec.id = run;
  rec.status = "succeeded";
  rec.finished_at = base::FormatTime(clock_.Now());
  rec.rows_read = rec.rows_loaded = artifact.fitted_rows;
  rec.output_version = published.manifest.id;
  rec.inputs = fitted_on;
  SLUICE_RETURN_IF_ERROR(registry_.FinishRun(rec));
  return artifact;
}

base::Result<int> Builder::PassesFor(const config::FeatureViewSpec& view,
                                     const FeatureViewPlan& plan, const lake::Manifest& source,
                                     const std::string& keys_sql) {
  // Passes over key partitions bound memory only if no entity holds more than its share: all
  // of an entity's events land in one pass, and its sweep holds them all. When more than one
  // pass is needed, the largest entity is counted first: the pass
  // holding it gets the other entities spread over enough passes to stay within the budget, and
  // an entity whose events alone exceed it is refused by name, before anything is loaded.
  if (options_.partitions > 0 || partitions_ <= 1) return partitions_;
  const std::int64_t budget = std::max<std::int64_t>(1, options_.memory_budget_bytes);
  SLUICE_ASSIGN_OR_RETURN(types::Batch largest,
                          db_->Query("SELECT count(*) AS __n, " + keys_sql + " FROM (" +
                                     EventsSql(plan, lake_, source, 0, 1) +
                                     ") GROUP BY ALL ORDER BY __n DESC LIMIT 1"));
  if (largest.num_rows() == 0) return partitions_;
  const std::int64_t hot = largest.column(0).GetInt64(0);
  const std::int64_t hot_bytes = hot * kEventBytes;
  if (hot_bytes >= budget) {
    std::string entity;
    for (size_t k = 0; k < plan.entity_keys.size(); ++k) {
      entity +=
          (k ? ", " : "") + plan.entity_keys[k] + "=" + largest.column(k + 1).ValueToString(0);
    }
    return base::FailedPrecondition(
        "feature view '" + view.name + "': entity " + entity + " has " + std::to_string(hot) +
        " events, about " + std::to_string(hot_bytes >> 20) + " MiB in memory (" +
        std::to_string(kEventBytes) + " bytes each), more than the memory budget of " +
        std::to_string(budget >> 20) + " MiB allows for one entity: every event of an entity is " +
        "held while its spine rows are swept, however the keys are partitioned. Raise the " +
        "budget (--memory-budget) or filter the source");
  }
  const std::int64_t total =
      std::max<std::int64_t>(0, source.rows.loaded) * kEventBytes + spine_rows_ * kSpineRowBytes;
  const std::int64_t rest = std::max<std::int64_t>(0, total - hot_bytes);
  const std::int64_t passes =
      std::max<std::int64_t>(partitions_, (rest + (budget - hot_bytes) - 1) / (budget - hot_bytes));
  return static_cast<int>(std::min<std::int64_t>(passes, 1 << 16));
}

base::Status Builder::BuildView(size_t index, const ViewRequest& request) {
  const config::FeatureViewSpec& view = *request.view;
  SLUICE_ASSIGN_OR_RETURN(lake::Manifest source, ResolveDataset(lake_, view.source, options_));
  if (std::none_of(manifest_.parents.begin(), manifest_.parents.end(),
                   [&](const auto& p) { return p == source.id; })) {
    manifest_.inputs.push_back({kDatasetInput + source.dataset + "@" + source.id, source.id, 0});
    manifest_.parents.push_back(source.id);
  }

  SLUICE_ASSIGN_OR_RETURN(FeatureViewPlan plan, LoadPlan(project_, view, lake_, source, *db_));
  definition_parts_.push_back(plan.definition_hash);
  const bool any_derived =
      std::any_of(request.features.begin(), request.features.end(), [&](const std::string& f) {
        return std::any_of(view.derived.begin(), view.derived.end(),
                           [&](const auto& d) { return d.name == f; });
      });
  // Under a TTL an entity without a live event at t is absent, and serving gives every feature
  // of an absent entity, derived ones included, as missing or expired (NULL here), even where
  // the expression would not be NULL over NULL aggregations (`as_of`, coalesce). A hidden count
  // marks the rows: the replay leaves it NULL exactly when the entity is absent.
  const bool mark_absent = any_derived && plan.ttl.has_value();
  if (mark_absent) {
    AggregationPlan present;
    present.name = kPresentColumn;
    plan.aggregations.push_back(std::move(present));
  }
  for (const auto& k : spec_.keys)
    (void)k;
  // The spine names the view's entity keys by the same column names.
  std::string keys_sql, spine_keys_sql;
  for (size_t k = 0; k < plan.entity_keys.size(); ++k) {
    const std::string type(warehouse::DuckDbTypeName(plan.key_types[k]));
    keys_sql += (k ? ", " : "") + QuoteIdentifier(plan.entity_keys[k]);
    spine_keys_sql += (k ? ", " : "") + std::string("CAST(") +
                      QuoteIdentifier(plan.entity_keys[k]) + " AS " + type + ") AS " +
                      QuoteIdentifier(plan.entity_keys[k]);
  }
  std::vector<FeatureValues> values;
  for (const auto& a : plan.aggregations)
    values.emplace_back(a.output_type, spine_rows_);
  SLUICE_ASSIGN_OR_RETURN(const int partitions, PassesFor(view, plan, source, keys_sql));
  result_.partitions = std::max(result_.partitions, partitions);
  for (int p = 0; p < partitions; ++p) {
    Progress("features " + view.name, static_cast<double>(p) / partitions);
    const std::string part =
        partitions > 1
            ? "hash(" + keys_sql + ") % " + std::to_string(partitions) + " = " + std::to_string(p)
            : "true";
    // Streamed on all threads into columns sized from the manifest's row count (an estimate
    // under a filter or across partitions: the columns grow if it is short).
    const auto expected = static_cast<size_t>(std::max<std::int64_t>(0, source.rows.loaded)) /
                          static_cast<size_t>(partitions) * (partitions > 1 ? 11 : 10) / 10;
    std::optional<base::StageTimer> timer(std::in_place, "training set",
                                          "scanning events of " + view.name);
    auto events = ScanEvents(*db_, kSessionSql, plan, lake_, source, p, partitions, expected,
                             options_.threads);
    if (!events.ok()) {
      return base::InvalidArgument("feature view '" + view.name +
                                   "': " + events.status().message());
    }
    const std::string spine_sql =
        "SELECT * FROM (SELECT " + spine_keys_sql + ", CAST(" + QuoteIdentifier(spec_.timestamp) +
        " AS TIMESTAMP) AS __ts, __row FROM __spine) WHERE " + part + " ORDER BY __row";
    timer.emplace("training set", "reading spine keys for " + view.name);
    SLUICE_ASSIGN_OR_RETURN(types::Batch spine, db_->Query(spine_sql));
    timer.emplace("training set", "replaying " + view.name);
    ReplayCounts counts;
    SLUICE_ASSIGN_OR_RETURN(std::vector<FeatureValues> part_values,
                            ReplayAsOf(plan, std::move(*events), spine, options_.threads, &counts));
    result_.counts.events += counts.events;
    result_.counts.events_null_key += counts.events_null_key;
    result_.counts.events_null_time += counts.events_null_time;
    if (index == 0) {
      result_.counts.spine_rows += counts.spine_rows;
      result_.counts.spine_null_key_or_time += counts.spine_null_key_or_time;
    }
    if (partitions == 1) {
      values = std::move(part_values);
    } else {
      const types::Column& rows = spine.column(spine.num_columns() - 1);
      for (size_t a = 0; a < values.size(); ++a) {
        for (size_t r = 0; r < spine.num_rows(); ++r) {
          values[a].CopyRow(part_values[a], r, static_cast<size_t>(rows.GetInt64(r)));
        }
      }
    }
  }

  // Derived features (SQL over the aggregations and `as_of`, the spine timestamp) are evaluated
  // by DuckDB, the same evaluator as every other expression. Views without any skip the trip.
  std::optional<types::Batch> features;
  if (!any_derived) {
    std::vector<types::Field> fields = {{"__row", LogicalType::kInt64, false}};
    for (const auto& f : request.features) {
      fields.push_back({f, plan.aggregations[plan.FindAggregation(f)].output_type, true});
    }
    SLUICE_ASSIGN_OR_RETURN(types::Schema schema, types::Schema::Make(fields));
    features.emplace(schema);
    std::vector<std::int64_t> rows(static_cast<size_t>(spine_rows_));
    for (size_t r = 0; r < rows.size(); ++r)
      rows[r] = static_cast<std::int64_t>(r);
    features->column(0).AppendFixedRaw(rows.data(), nullptr, rows.size());
    for (size_t i = 0; i < request.features.size(); ++i) {
      features->column(i + 1) = values[plan.FindAggregation(request.features[i])].ToColumn();
    }
  } else {
    std::vector<types::Field> fields = {{"__row", LogicalType::kInt64, false},
                                        {"as_of", LogicalType::kTimestamp, true}};
    for (const auto& a : plan.aggregations)
      fields.push_back({a.name, a.output_type, true});
    SLUICE_ASSIGN_OR_RETURN(types::Schema agg_schema, types::Schema::Make(fields));
    types::Batch agg(agg_schema);
    {
      SLUICE_ASSIGN_OR_RETURN(types::Batch times,
                              db_->Query("SELECT __row, CAST(" + QuoteIdentifier(spec_.timestamp) +
                                         " AS TIMESTAMP) FROM __spine ORDER BY __row"));
      agg.column(0) = std::move(times.column(0));
      agg.column(1) = std::move(times.column(1));
      for (size_t a = 0; a < values.size(); ++a)
        agg.column(2 + a) = values[a].ToColumn();
    }
    const std::string agg_table = "__agg_" + std::to_string(index);
    SLUICE_RETURN_IF_ERROR(db_->CreateTable(agg_table, agg_schema, /*replace_existing=*/true));
    SLUICE_RETURN_IF_ERROR(db_->Append(agg_table, agg));
    std::string select = "__row";
    for (const auto& f : request.features) {
      const auto d = std::find_if(view.derived.begin(), view.derived.end(),
                                  [&](const auto& x) { return x.name == f; });
      std::string value = d != view.derived.end() ? "(" + d->expr + ")" : QuoteIdentifier(f);
      if (d != view.derived.end() && mark_absent) {
        value = "CASE WHEN " + QuoteIdentifier(kPresentColumn) + " IS NULL THEN NULL ELSE " +
                value + " END";
      }
      select += ", " + value + " AS " + QuoteIdentifier(f);
    }
    auto queried = db_->Query("SELECT " + select + " FROM " + agg_table + " ORDER BY __row");
    if (!queried.ok()) {
      return base::InvalidArgument("feature view '" + view.name +
                                   "', derived features: " + queried.status().message());
    }
    features.emplace(std::move(queried).value());
  }

  // Fitted transforms, by the one Apply the serving path also uses; prefixed column names.
  std::vector<types::Field> out_fields = {{"__row", LogicalType::kInt64, false}};
  std::vector<types::Column> out_columns;
  out_columns.push_back(std::move(features->column(0)));
  for (size_t i = 0; i < request.features.size(); ++i) {
    const std::string& f = request.features[i];
    const types::Column& raw = features->column(i + 1);
    const auto t = std::find_if(view.transforms.begin(), view.transforms.end(),
                                [&](const auto& x) { return x.feature == f; });
    if (t == view.transforms.end()) {
      out_fields.push_back({view.name + "__" + f, raw.type(), true});
      out_columns.push_back(raw);
      continue;
    }
    SLUICE_ASSIGN_OR_RETURN(TransformArtifact artifact, ArtifactFor(view, *t, raw));
    const std::string artifact_json = ToJson(artifact);
    manifest_.inputs.push_back({kTransformInput + view.name + "." + f,
                                lake::Sha256Hex(artifact_json), artifact_json.size()});
    std::vector<types::Column> applied = MakeOutputColumns(artifact, raw.type());
    SLUICE_RETURN_IF_ERROR(Apply(artifact, raw, &applied));
    const auto names = OutputFields(artifact, raw.type());
    for (size_t k = 0; k < applied.size(); ++k) {
      out_fields.push_back({view.name + "__" + names[k].name, names[k].type, true});
      out_columns.push_back(std::move(applied[k]));
    }
  }
  SLUICE_ASSIGN_OR_RETURN(types::Schema out_schema, types::Schema::Make(out_fields));
  types::Batch out(out_schema);
  for (size_t c = 0; c < out_columns.size(); ++c)
    out.column(c) = std::move(out_columns[c]);
  // Read in place by the final COPY (a table function), not appended to a table: appending
  // copied every value twice and the COPY then had to join it back to the spine.
  outputs_.push_back(std::make_unique<types::Batch>(std::move(out)));
  return db_->RegisterBatch("__out_" + std::to_string(index), outputs_.back().get());
}

base::Result<TrainingSetResult> Builder::Run() {
  const auto started = clock_.Now();
  SLUICE_ASSIGN_OR_RETURN(lake::StagingDir scratch, lake::StagingDir::Create(lake_.root()));
  scratch_.emplace(std::move(scratch));
  manifest_.dataset = spec_.name;
  manifest_.kind = "training_set";
  manifest_.sluice_version = base::kBuildVersion;
  manifest_.inputs.push_back(
      {kSemanticsInput + std::to_string(kSemanticsVersion), std::to_string(kSemanticsVersion), 0});
  SLUICE_ASSIGN_OR_RETURN(std::vector<ViewRequest> requests, SelectFeatures(project_, spec_));
  warehouse::DuckDb::Options db_options;
  db_options.threads = options_.threads;
  SLUICE_ASSIGN_OR_RETURN(warehouse::DuckDb db, warehouse::DuckDb::Open(":memory:", db_options));
  db_.emplace(std::move(db));
  SLUICE_RETURN_IF_ERROR(db_->Execute(kSessionSql));
  Progress("spine", -1);
  std::optional<base::StageTimer> timer(std::in_place, "training set", "loading the spine");
  SLUICE_RETURN_IF_ERROR(LoadSpine());
  timer.reset();

  // Passes over key partitions keep memory bounded by the budget, whatever the data size.
  partitions_ = options_.partitions;
  if (partitions_ <= 0) {
    std::int64_t estimate = spine_rows_ * kSpineRowBytes;
    for (const auto& r : requests) {
      auto source = ResolveDataset(lake_, r.view->source, options_);
      if (source.ok()) estimate += source->rows.loaded * kEventBytes;
    }
    partitions_ = static_cast<int>(
        std::max<std::int64_t>(1, (estimate + options_.memory_budget_bytes - 1) /
                                      std::max<std::int64_t>(1, options_.memory_budget_bytes)));
  }
  result_.partitions = partitions_;

  for (size_t i = 0; i < requests.size(); ++i) {
    SLUICE_RETURN_IF_ERROR(BuildView(i, requests[i]));
  }
  std::string definition = "training_set=" + spec_.name +
                           ";spine=" + spec_.spine.value_or(spec_.spine_path.value_or("")) +
                           ";ts=" + spec_.timestamp;
  for (const auto& k : spec_.keys)
    definition += ";key=" + k;
  for (const auto& l : spec_.labels)
    definition += ";label=" + l;
  for (const auto& f : spec_.features)
    definition += ";feature=" + f;
  for (const auto& d : definition_parts_)
    definition += ";view=" + d;
  manifest_.definition_hash = lake::Sha256Hex(definition);

  // One deterministic file per format: single-threaded writing keeps the bytes independent of
  // the thread count.
  Progress("writing", -1);
  std::string select = "SELECT ";
  std::string sep;
  for (const auto& c : spec_.keys) {
    select += sep + "s." + QuoteIdentifier(c);
    sep = ", ";
  }
  select += ", CAST(s." + QuoteIdentifier(spec_.timestamp) + " AS TIMESTAMP) AS " +
            QuoteIdentifier(spec_.timestamp);
  for (const auto& l : spec_.labels)
    select += ", s." + QuoteIdentifier(l);
  // The spine table holds its rows in __row order (created in the spine's order with
  // insertion order preserved) and every view's output is in __row order too, so they line up
  // by position; one thread reads both in order. The row numbers are still compared, so that
  // a misalignment fails loudly instead of pairing features with the wrong rows.
  std::string from = " FROM __spine s";
  std::string aligned;
  for (size_t i = 0; i < requests.size(); ++i) {
    const std::string t = "o" + std::to_string(i);
    select += ", " + t + ".* EXCLUDE (__row)";
    from += " POSITIONAL JOIN __out_" + std::to_string(i) + "() " + t;
    aligned += (i ? " AND s.__row = " : "s.__row = ") + t + ".__row";
  }
  if (!aligned.empty()) {
    from += " WHERE CASE WHEN " + aligned +
            " THEN true ELSE error('internal: training-set rows out of line with the spine') END";
  }
  const std::string final_sql = select + from;
  SLUICE_RETURN_IF_ERROR(db_->Execute("SET threads = 1"));
  auto described = db_->Query("DESCRIBE " + final_sql);
  SLUICE_RETURN_IF_ERROR(described.status());
  std::vector<types::Field> schema_fields;
  for (size_t r = 0; r < described->num_rows(); ++r) {
    schema_fields.push_back({std::string(described->column(0).GetString(r)),
                             FromDuckDbType(std::string(described->column(1).GetString(r))), true});
  }
  SLUICE_ASSIGN_OR_RETURN(manifest_.schema, types::Schema::Make(schema_fields));
  std::vector<config::DatasetFormat> formats = spec_.formats;
  if (formats.empty()) formats.push_back(config::DatasetFormat::kParquet);
  std::vector<std::pair<std::string, fs::path>> written;
  for (auto format : formats) {
    const bool parquet = format == config::DatasetFormat::kParquet;
    const std::string name = parquet ? "data.parquet" : "data.csv";
    const fs::path file = scratch_->path() / name;
    base::StageTimer write_timer("training set", "writing " + name);
    SLUICE_RETURN_IF_ERROR(db_->Execute(
        "COPY (" + final_sql + ") TO " + QuoteLiteral(file.string()) +
        (parquet ? " (FORMAT parquet, COMPRESSION zstd)" : " (FORMAT csv, HEADER true)")));
    written.emplace_back(name, file);
  }
  manifest_.rows = {spine_rows_, spine_rows_, 0};
  for (const auto& [name, file] : written) {
    SLUICE_ASSIGN_OR_RETURN(std::string sha, lake::Sha256File(file));
    std::error_code ec;
    manifest_.outputs.push_back({name, sha, fs::file_size(file, ec), spine_rows_});
  }
  manifest_.created_at = base::FormatTime(clock_.Now());

  // --out copies: each appears whole under its name or not at all (a user never trains on a cut
  // file); temporaries a killed copy left behind are removed first.
  auto prepare_output_dir = [&]() -> base::Status {
    std::error_code ec;
    fs::create_directories(options_.output_dir, ec);
    if (ec) {
      return base::IoError("cannot create '" + options_.output_dir.string() + "': " + ec.message());
    }
    lake::RemoveAbandonedTemporaries(options_.output_dir);
    return base::Status::Ok();
  };
  auto output_path = [&](const std::string& name) {
    return options_.output_dir / (spec_.name + fs::path(name).extension().string());
  };
  if (options_.publish) {
    base::KillPoint("training_set.after_staging");
    for (const auto& [name, file] : written) {
      SLUICE_RETURN_IF_ERROR(lake_.PutObject(file, /*move=*/true).status());
    }
    SLUICE_ASSIGN_OR_RETURN(lake::Lake::PublishResult published, lake_.Publish(manifest_));
    result_.manifest = std::move(published.manifest);
    result_.created = published.created;
    if (!options_.output_dir.empty()) {
      SLUICE_RETURN_IF_ERROR(prepare_output_dir());
      for (const auto& out : result_.manifest.outputs) {
        const fs::path dest = output_path(out.name);
        SLUICE_RETURN_IF_ERROR(lake::CopyFileAtomic(lake_.ObjectPath(out.sha256), dest,
                                                    "training_set.mid_output_copy"));
        result_.files.push_back(dest);
      }
    }
  } else {
    result_.manifest = manifest_;
    result_.manifest.id = lake::ComputeManifestId(manifest_);
    // Unpublished outputs are only read by the caller (`sluice skew` compares them with
    // served values): copied from the scratch folder, which goes with the builder.
    if (!options_.output_dir.empty()) {
      SLUICE_RETURN_IF_ERROR(prepare_output_dir());
      for (const auto& [name, file] : written) {
        const fs::path dest = output_path(name);
        SLUICE_RETURN_IF_ERROR(lake::CopyFileAtomic(file, dest, ""));
        result_.files.push_back(dest);
      }
    }
  }
  result_.seconds = std::chrono::duration<double>(clock_.Now() - started).count();
  return result_;
}

}  // namespace

base::Result<TrainingSetResult> BuildTrainingSet(const config::ProjectSpec& project,
                                                 const config::TrainingSetSpec& spec,
                                                 lake::Lake& lake, registry::Registry& registry,
                                                 base::Clock& clock,
                                                 const TrainingSetOptions& options) {
  const std::string started = base::FormatTime(clock.Now());
  SLUICE_ASSIGN_OR_RETURN(std::int64_t run_id,
                          registry.BeginRun("training_set", spec.name, started));
  Builder builder(project, spec, lake, registry, clock, options);
  auto result = builder.Run();
  if (options.publish) base::KillPoint("training_set.before_run_record");
  registry::RunRecord run;
  run.id = run_id;
  run.finished_at = base::FormatTime(clock.Now());
  if (result.ok()) {
    run.status = result->created ? "succeeded" : "unchanged";
    run.duration_seconds = result->seconds;
    run.rows_read = run.rows_loaded = result->manifest.rows.loaded;
    run.output_version = result->manifest.id;
    for (const auto& in : result->manifest.inputs) {
      run.inputs += (run.inputs.empty() ? "" : ",") + in.path;
    }
    SLUICE_RETURN_IF_ERROR(registry.FinishRun(run));
    if (options.publish && result->created) {
      std::vector<registry::LineageEdge> edges;
      for (const auto& p : result->manifest.parents) {
        edges.push_back({p, result->manifest.id, run_id});
      }
      SLUICE_RETURN_IF_ERROR(registry.AddLineage(edges));
    }
    return result;
  }
  run.status = "failed";
  run.error = result.status().ToString();
  (void)registry.FinishRun(run);
  return std::move(result).status().WithContext("training set '" + spec.name + "'");
}

std::optional<std::string> SemanticsChangeNote(const lake::Manifest& m) {
  int built_with = 1;  // training sets from before the version was recorded
  for (const auto& in : m.inputs) {
    if (in.path.rfind(kSemanticsInput, 0) != 0) continue;
    const std::string& v = in.sha256;
    if (std::from_chars(v.data(), v.data() + v.size(), built_with).ec != std::errc()) {
      built_with = 0;  // unreadable: reported as a different version
    }
  }
  if (built_with == kSemanticsVersion) return std::nullopt;
  return "built by an engine with semantics version " + std::to_string(built_with) +
         ", this sluice computes version " + std::to_string(kSemanticsVersion) +
         ": the arithmetic changed (" +
         (built_with < 2 ? "sums, means and variances are now exact, rounded once"
                         : "see docs/features.md") +
         "), so values and output hashes may differ; rebuild it to get this version's values";
}

base::Result<ReproduceResult> ReproduceTrainingSet(const config::ProjectSpec& project,
                                                   const std::string& version, lake::Lake& lake,
                                                   registry::Registry& registry, base::Clock& clock,
                                                   int threads) {
  SLUICE_ASSIGN_OR_RETURN(lake::Manifest m, lake.FindVersion(version));
  if (m.kind != "training_set") {
    return base::InvalidArgument("version " + m.id.substr(0, 12) + " is a " + m.kind +
                                 ", not a training set");
  }
  const config::TrainingSetSpec* spec = project.FindTrainingSet(m.dataset);
  if (spec == nullptr) {
    return base::NotFound("training set '" + m.dataset + "' is no longer defined in the project");
  }
  TrainingSetOptions options;
  options.threads = threads;
  options.publish = false;
  for (const auto& in : m.inputs) {
    if (in.path.rfind(kDatasetInput, 0) == 0) {
      const std::string rest = in.path.substr(std::string(kDatasetInput).size());
      options.pinned_versions[rest.substr(0, rest.rfind('@'))] = in.sha256;
    } else if (in.path.rfind(kTransformInput, 0) == 0) {
      // The artifact is stored by the hash of its file, which is its JSON.
      options.pinned_artifacts[in.path.substr(std::string(kTransformInput).size())] = in.sha256;
    }
  }
  SLUICE_ASSIGN_OR_RETURN(TrainingSetResult rebuilt,
                          BuildTrainingSet(project, *spec, lake, registry, clock, options));
  ReproduceResult out;
  out.manifest = m;
  out.identical = true;
  for (const auto& expected : m.outputs) {
    auto it = std::find_if(rebuilt.manifest.outputs.begin(), rebuilt.manifest.outputs.end(),
                           [&](const auto& o) { return o.name == expected.name; });
    if (it == rebuilt.manifest.outputs.end()) {
      out.identical = false;
      out.differences.push_back(expected.name + ": not rebuilt (the definition changed)");
    } else if (it->sha256 != expected.sha256) {
      out.identical = false;
      out.differences.push_back(expected.name + ": expected " + expected.sha256 + ", rebuilt " +
                                it->sha256);
    }
  }
  if (!out.identical) {
    if (auto note = SemanticsChangeNote(m)) out.differences.push_back(*note);
  }
  if (rebuilt.manifest.definition_hash != m.definition_hash) {
    out.differences.push_back("the definitions changed since (definition hash " +
                              m.definition_hash.substr(0, 12) + " -> " +
                              rebuilt.manifest.definition_hash.substr(0, 12) + ")");
  }
  return out;
}

}  // namespace sluice::engine
