#include "python/project_session.h"

#include <algorithm>

#include "base/clock.h"
#include "config/project_loader.h"
#include "engine/training_set.h"
#include "serve/feature_server.h"
#include "serve/metrics.h"
#include "warehouse/duckdb_database.h"

namespace sluice::python {

namespace {

std::filesystem::path Resolve(const config::ProjectSpec& spec, const std::string& path) {
  const std::filesystem::path p(path);
  return p.is_absolute() ? p : spec.dir / p;
}

// The SQL that reads a stored training-set file with the version's column types. Parquet keeps
// its types; a CSV is read with the manifest's schema, so both give the same columns.
base::Result<std::string> ReadFileSql(const lake::Lake& lake, const lake::Manifest& m) {
  const lake::OutputFile* parquet = nullptr;
  const lake::OutputFile* csv = nullptr;
  for (const auto& o : m.outputs) {
    if (o.name.ends_with(".parquet") && parquet == nullptr) parquet = &o;
    if (o.name.ends_with(".csv") && csv == nullptr) csv = &o;
  }
  if (parquet != nullptr) {
    return "SELECT * FROM read_parquet(" +
           warehouse::QuoteLiteral(lake.ObjectPath(parquet->sha256).string()) + ")";
  }
  if (csv == nullptr) {
    return base::NotFound("training set " + m.dataset + " version " + m.id.substr(0, 12) +
                          " has no Parquet or CSV file");
  }
  std::string columns;
  for (const auto& f : m.schema.fields()) {
    if (!columns.empty()) columns += ", ";
    columns += warehouse::QuoteLiteral(f.name) + ": " +
               warehouse::QuoteLiteral(warehouse::DuckDbTypeName(f.type));
  }
  return "SELECT * FROM read_csv(" +
         warehouse::QuoteLiteral(lake.ObjectPath(csv->sha256).string()) +
         ", header = true, columns = {" + columns + "})";
}

}  // namespace

base::Result<std::unique_ptr<ProjectSession>> ProjectSession::Open(
    const std::filesystem::path& dir) {
  std::vector<config::Diagnostic> diagnostics;
  auto spec = config::LoadProject(dir, &diagnostics);
  if (!spec.ok()) {
    // "project at DIR has N errors" alone would not say which: the diagnostics go with it.
    std::string message = spec.status().message();
    if (spec.status().code() == base::StatusCode::kInvalidArgument) {
      for (const auto& d : diagnostics)
        message += "\n" + d.ToString();
    }
    return base::Status(spec.status().code(), message);
  }
  std::unique_ptr<ProjectSession> s(new ProjectSession());
  s->spec_ = std::move(spec).value();
  s->lake_ = std::make_unique<lake::Lake>(Resolve(s->spec_, s->spec_.lake.path));
  SLUICE_RETURN_IF_ERROR(s->lake_->Open().WithContext("opening the lake"));
  SLUICE_ASSIGN_OR_RETURN(auto reg,
                          registry::Registry::Open(Resolve(s->spec_, s->spec_.registry.path)));
  s->registry_ = std::make_unique<registry::Registry>(std::move(reg));
  return s;
}

ProjectSession::~ProjectSession() {
  // The server refers to the metrics, the lake and the spec: it goes first.
  server_.reset();
}

base::Result<ProjectSession::TrainingSetData> ProjectSession::TrainingSet(const std::string& name,
                                                                          bool rebuild) {
  const auto* spec = spec_.FindTrainingSet(name);
  if (spec == nullptr) {
    return base::InvalidArgument("no training set '" + name + "' in project '" + spec_.name + "'");
  }
  SLUICE_ASSIGN_OR_RETURN(std::optional<lake::Manifest> current, lake_->Current(name));
  bool built = false;
  if (rebuild || !current) {
    engine::TrainingSetOptions options;  // lake only: no copies under output/
    SLUICE_ASSIGN_OR_RETURN(auto result,
                            engine::BuildTrainingSet(spec_, *spec, *lake_, *registry_,
                                                     base::SystemClock::Instance(), options));
    current = std::move(result.manifest);
    built = true;
  }
  SLUICE_ASSIGN_OR_RETURN(std::string sql, ReadFileSql(*lake_, *current));
  SLUICE_ASSIGN_OR_RETURN(auto db, warehouse::DuckDb::Open(":memory:"));
  SLUICE_ASSIGN_OR_RETURN(
      types::Batch rows,
      db.QueryStreaming(sql, static_cast<size_t>(std::max<std::int64_t>(0, current->rows.loaded))));
  return TrainingSetData{std::move(*current), std::move(rows), built};
}

base::Result<std::vector<lake::Manifest>> ProjectSession::Versions(
    const std::string& dataset) const {
  SLUICE_ASSIGN_OR_RETURN(auto history, lake_->History(dataset));
  if (history.empty()) {
    return base::NotFound("dataset '" + dataset + "' has no versions in the lake of project '" +
                          spec_.name + "'");
  }
  return history;
}

base::Result<std::vector<registry::LineageEdge>> ProjectSession::Lineage(const std::string& node) {
  std::string key = node;
  SLUICE_ASSIGN_OR_RETURN(auto datasets, lake_->Datasets());
  if (std::find(datasets.begin(), datasets.end(), node) != datasets.end()) {
    SLUICE_ASSIGN_OR_RETURN(auto current, lake_->Current(node));
    if (current) key = current->id;
  } else if (!node.starts_with("file:") && node.find(':') == std::string::npos) {
    auto found = lake_->FindVersion(node);
    if (found.ok()) key = found->id;
  }
  return registry_->Lineage(key);
}

base::Result<ProjectSession::OnlineReply> ProjectSession::OnlineFeatures(
    const std::string& request_json) {
  if (!server_) {
    metrics_ = std::make_unique<serve::Metrics>();
    serve::FeatureServerOptions server_options;
    server_options.reload_project = serve::ProjectFilesReloader(spec_.dir);
    SLUICE_ASSIGN_OR_RETURN(server_,
                            serve::FeatureServer::Open(spec_, *lake_, server_options,
                                                       base::SystemClock::Instance(), *metrics_));
  } else {
    // Picks up a materialization written since the last call.
    SLUICE_RETURN_IF_ERROR(server_->Refresh());
  }
  serve::Reply reply = server_->Features(request_json);
  return OnlineReply{reply.http_status, std::move(reply.body)};
}

}  // namespace sluice::python
