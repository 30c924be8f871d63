#include "quality/skew.h"

#include <charconv>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>

#include "base/time.h"
#include "engine/online_view.h"
#include "engine/training_set.h"
#include "lake/staging_dir.h"
#include "warehouse/duckdb_database.h"

namespace sluice::quality {

namespace fs = std::filesystem;
using nlohmann::json;
using warehouse::QuoteLiteral;

namespace {

constexpr const char* kServingLogKind = "serving_log";
constexpr std::int64_t kMicrosPerDay = 86'400'000'000;

// A recomputed value as the serving API renders it (serve/json_writer.cpp's rules), for reports.
std::string OfflineJson(const types::Column& c, size_t row) {
  if (!c.IsValid(row)) return "null";
  switch (c.type()) {
    case types::LogicalType::kString:
    case types::LogicalType::kTimestamp:
    case types::LogicalType::kDate:
      return json(c.type() == types::LogicalType::kString ? std::string(c.GetString(row))
                                                          : c.ValueToString(row))
          .dump();
    case types::LogicalType::kDouble: {
      const double v = c.GetDouble(row);
      if (std::isnan(v)) return "\"NaN\"";
      if (std::isinf(v)) return v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
      char buf[40];
      const auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::general, 17);
      return std::string(buf, r.ptr);
    }
    case types::LogicalType::kBool:
      return c.GetBool(row) ? "true" : "false";
    case types::LogicalType::kInt64:
      return std::to_string(c.GetInt64(row));
  }
  return "null";
}

// Whether a served value (as logged) is exactly the recomputed one: the same number (doubles
// bit for bit: the log holds 17 significant digits, which read back exactly), text or NULL.
bool SameValue(const json& online, const types::Column& c, size_t row) {
  if (!c.IsValid(row)) return online.is_null();
  switch (c.type()) {
    case types::LogicalType::kInt64:
      if (online.is_number_integer()) return online.get<std::int64_t>() == c.GetInt64(row);
      return online.is_number_float() &&
             online.get<double>() == static_cast<double>(c.GetInt64(row));
    case types::LogicalType::kDouble: {
      const double v = c.GetDouble(row);
      if (std::isnan(v) || std::isinf(v))
        return online.is_string() && online.dump() == OfflineJson(c, row);
      return online.is_number() && online.get<double>() == v;
    }
    case types::LogicalType::kBool:
      return online.is_boolean() && online.get<bool>() == c.GetBool(row);
    case types::LogicalType::kString:
      return online.is_string() && online.get<std::string>() == c.GetString(row);
    case types::LogicalType::kTimestamp:
    case types::LogicalType::kDate: {
      // Compared as instants, not as text: "2024-03-01T12:00:00Z" and "2024-03-01 12:00:00+00:00"
      // are the same served value, whatever rendering the server used when it was logged.
      if (!online.is_string()) return false;
      const base::Result<std::int64_t> micros =
          base::ParseTimestampMicros(online.get_ref<const std::string&>());
      if (!micros.ok()) return false;
      const std::int64_t offline = c.type() == types::LogicalType::kTimestamp
                                       ? c.GetTimestamp(row)
                                       : static_cast<std::int64_t>(c.GetDate(row)) * kMicrosPerDay;
      return *micros == offline;
    }
  }
  return false;
}

base::Result<lake::Manifest> ResolveLog(const lake::Lake& lake, const std::string& name) {
  SLUICE_ASSIGN_OR_RETURN(std::optional<lake::Manifest> current, lake.Current(name));
  lake::Manifest m;
  if (current) {
    m = std::move(*current);
  } else {
    auto version = lake.FindVersion(name);
    if (!version.ok()) {
      return base::NotFound("no serving log '" + name +
                            "' in the lake (a dataset or version id): set "
                            "monitoring.serving_log and serve some requests first");
    }
    m = std::move(*version);
  }
  if (m.kind != kServingLogKind) {
    return base::InvalidArgument("'" + name + "' is a " + m.kind + " dataset, not a serving log");
  }
  return m;
}

// Checks one (view, source version, definition) group of logged rows; appends to `report`.
base::Status CheckGroup(const config::ProjectSpec& project, lake::Lake& lake,
                        registry::Registry& registry, base::Clock& clock,
                        const SkewOptions& options, warehouse::DuckDb& db, const fs::path& scratch,
                        int index, SkewView& view, std::vector<SkewDifference>& differences) {
  const config::FeatureViewSpec* spec = project.FindFeatureView(view.view);
  if (spec == nullptr) {
    view.problem = "feature view '" + view.view + "' is no longer defined in the project";
    return base::Status::Ok();
  }
  const config::EntitySpec* entity = project.FindEntity(spec->entity);
  if (entity == nullptr) {
    view.problem = "entity '" + spec->entity + "' is not defined";
    return base::Status::Ok();
  }
  {
    // The definition the project holds now, planned against the same source version.
    warehouse::DuckDb::Options db_options;
    db_options.threads = 1;
    SLUICE_ASSIGN_OR_RETURN(warehouse::DuckDb plan_db, warehouse::OpenFeatureSqlDb(db_options));
    auto online = engine::OnlineView::Load(project, *spec, lake, view.source_version, plan_db);
    if (!online.ok()) {
      view.problem = "cannot plan against source version " + view.source_version.substr(0, 12) +
                     ": " + online.status().ToString();
      return base::Status::Ok();
    }
    view.current_definition = (*online)->plan().definition_hash;
  }

  const std::string where = "view = " + QuoteLiteral(view.view) +
                            " AND source_version = " + QuoteLiteral(view.source_version) +
                            " AND definition = " + QuoteLiteral(view.served_definition);
  // The spine: each logged (entity, at), keyed by the log row it came from.
  std::string keys;
  for (const auto& k : entity->keys) {
    keys += "json_extract_string(entity, " + QuoteLiteral("$.\"" + k + "\"") + ") AS " +
            warehouse::QuoteIdentifier(k) + ", ";
  }
  const fs::path spine = scratch / ("spine-" + std::to_string(index) + ".parquet");
  SLUICE_RETURN_IF_ERROR(
      db.Execute("COPY (SELECT " + keys + "as_of AS __at, __log_row FROM log WHERE " + where +
                 " ORDER BY __log_row) TO " + QuoteLiteral(spine.string()) + " (FORMAT parquet)"));

  config::TrainingSetSpec ts;
  ts.name = "skew_" + view.view;
  ts.spine_path = spine.string();
  ts.timestamp = "__at";
  ts.keys = entity->keys;
  ts.labels = {"__log_row"};
  ts.features = {view.view};
  ts.formats = {config::DatasetFormat::kParquet};
  engine::TrainingSetOptions ts_options;
  ts_options.threads = options.threads;
  ts_options.publish = false;
  ts_options.pinned_versions[spec->source] = view.source_version;
  ts_options.output_dir = scratch / ("out-" + std::to_string(index));
  auto built = engine::BuildTrainingSet(project, ts, lake, registry, clock, ts_options);
  if (!built.ok()) {
    view.problem = "recomputation failed: " + built.status().ToString();
    return base::Status::Ok();
  }
  if (built->files.empty()) return base::Internal("the recomputation wrote no file");

  SLUICE_ASSIGN_OR_RETURN(
      types::Batch rows,
      db.Query("SELECT l.entity, l.as_of, l.served_at, l.features, COLUMNS('^" + view.view +
               "__.*') FROM log l JOIN read_parquet(" + QuoteLiteral(built->files[0].string()) +
               ") o USING (__log_row) ORDER BY l.served_at, l.request, l.__log_row"));
  std::map<std::string, size_t> column_of;  // feature -> column of `rows`
  const std::string prefix = view.view + "__";
  for (size_t c = 4; c < rows.num_columns(); ++c) {
    column_of[rows.schema().field(c).name.substr(prefix.size())] = c;
  }
  for (size_t r = 0; r < rows.num_rows(); ++r) {
    ++view.rows;
    json features = json::parse(rows.column(3).GetString(r), nullptr, /*allow_exceptions=*/false);
    if (!features.is_object()) {
      return base::Corruption("serving log row with unreadable features: " +
                              std::string(rows.column(3).GetString(r)));
    }
    for (const auto& [name, served] : features.items()) {
      ++view.values;
      const json value = served.is_object() && served.contains("value") ? served["value"] : json();
      // The log leaves the status out when it is "present" (docs/monitoring.md#serving-logs).
      std::string status;  // unreadable: compared as not present
      if (served.is_object()) {
        if (!served.contains("status")) {
          status = "present";
        } else if (served["status"].is_string()) {
          status = served["status"].get<std::string>();
        }
      }
      auto col = column_of.find(name);
      bool same = false;
      std::string offline;  // empty: absent
      if (col != column_of.end()) {
        const types::Column& c = rows.column(col->second);
        offline = OfflineJson(c, r);
        // A missing or expired value reads as NULL in a training set where serving gives the
        // declared default (or NULL); without a TTL an unknown entity's facts (a count of 0) are
        // served with status "missing" and recomputed alike.
        same = SameValue(value, c, r) || (status != "present" && !c.IsValid(r));
      }
      if (same) continue;
      ++view.skewed;
      SkewDifference d;
      d.view = view.view;
      d.entity = std::string(rows.column(0).GetString(r));
      d.at = base::FormatTimestampMicros(rows.column(1).GetTimestamp(r));
      d.served_at = base::FormatTimestampMicros(rows.column(2).GetTimestamp(r));
      d.feature = name;
      d.online_status = status;
      d.online = value.dump();
      d.offline = std::move(offline);
      differences.push_back(std::move(d));
    }
  }
  return base::Status::Ok();
}

}  // namespace

base::Result<SkewReport> CheckSkew(const config::ProjectSpec& project, lake::Lake& lake,
                                   registry::Registry& registry, base::Clock& clock,
                                   const SkewOptions& options) {
  const std::string name =
      options.log.empty() ? project.monitoring.serving_log.dataset : options.log;
  SLUICE_ASSIGN_OR_RETURN(lake::Manifest m, ResolveLog(lake, name));
  SkewReport report;
  report.log = m.dataset;
  report.version = m.id;

  SLUICE_ASSIGN_OR_RETURN(warehouse::DuckDb db, warehouse::DuckDb::Open(":memory:"));
  SLUICE_ASSIGN_OR_RETURN(lake::StagingDir scratch, lake::StagingDir::Create(lake.root()));
  std::string files;
  for (const auto& f : lake.DataFiles(m)) {
    files += (files.empty() ? "" : ", ") + QuoteLiteral(f.string());
  }
  if (files.empty()) return report;
  std::string filter = "true";
  if (options.since) {
    filter += " AND served_at >= make_timestamp(" +
              std::to_string((clock.Now() - *options.since).time_since_epoch().count()) + ")";
  }
  if (!options.views.empty()) {
    filter += " AND view IN (";
    for (size_t i = 0; i < options.views.size(); ++i)
      filter += (i ? ", " : "") + QuoteLiteral(options.views[i]);
    filter += ")";
  }
  SLUICE_RETURN_IF_ERROR(db.Execute(
      "CREATE TABLE log AS SELECT (row_number() OVER ()) - 1 AS __log_row, * FROM read_parquet([" +
      files + "]) WHERE " + filter));
  SLUICE_ASSIGN_OR_RETURN(
      types::Batch groups,
      db.Query("SELECT view, source_version, definition, count(*)::BIGINT FROM log GROUP BY ALL "
               "ORDER BY view, source_version, definition"));
  for (size_t g = 0; g < groups.num_rows(); ++g) {
    SkewView view;
    view.view = std::string(groups.column(0).GetString(g));
    view.source_version = std::string(groups.column(1).GetString(g));
    view.served_definition = std::string(groups.column(2).GetString(g));
    SLUICE_RETURN_IF_ERROR(CheckGroup(project, lake, registry, clock, options, db, scratch.path(),
                                      static_cast<int>(g), view, report.differences));
    if (!view.problem.empty()) view.rows = groups.column(3).GetInt64(g);
    report.rows += view.rows;
    report.values += view.values;
    report.skewed += view.skewed;
    report.views.push_back(std::move(view));
  }
  return report;
}

std::string SkewReportJson(const SkewReport& report) {
  nlohmann::ordered_json j;
  j["log"] = report.log;
  j["version"] = report.version;
  j["rows"] = report.rows;
  j["values"] = report.values;
  j["skewed_values"] = report.skewed;
  bool problems = false;
  nlohmann::ordered_json views = nlohmann::ordered_json::array();
  for (const auto& v : report.views) {
    nlohmann::ordered_json o;
    o["view"] = v.view;
    o["source_version"] = v.source_version;
    o["served_definition"] = v.served_definition;
    o["current_definition"] = v.current_definition.empty()
                                  ? nlohmann::ordered_json()
                                  : nlohmann::ordered_json(v.current_definition);
    o["definition_changed"] =
        !v.current_definition.empty() && v.current_definition != v.served_definition;
    o["rows"] = v.rows;
    o["values"] = v.values;
    o["skewed_values"] = v.skewed;
    if (!v.problem.empty()) {
      o["problem"] = v.problem;
      problems = true;
    }
    views.push_back(std::move(o));
  }
  j["skew"] = report.skewed > 0 || problems;
  j["views"] = std::move(views);
  nlohmann::ordered_json diffs = nlohmann::ordered_json::array();
  for (const auto& d : report.differences) {
    nlohmann::ordered_json o;
    o["view"] = d.view;
    o["entity"] = json::parse(d.entity, nullptr, false).is_discarded()
                      ? nlohmann::ordered_json(d.entity)
                      : nlohmann::ordered_json::parse(d.entity);
    o["at"] = d.at;
    o["served_at"] = d.served_at;
    o["feature"] = d.feature;
    o["online_status"] = d.online_status;
    o["online"] = nlohmann::ordered_json::parse(d.online, nullptr, false);
    if (d.offline.empty()) {
      o["offline"] = nullptr;
      o["note"] = "the recomputation has no such feature";
    } else {
      o["offline"] = nlohmann::ordered_json::parse(d.offline, nullptr, false);
    }
    diffs.push_back(std::move(o));
  }
  j["differences"] = std::move(diffs);
  return j.dump(2) + "\n";
}

}  // namespace sluice::quality
