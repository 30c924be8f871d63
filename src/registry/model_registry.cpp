#include "registry/model_registry.h"

#include <iterator>

#include "registry/sqlite_access.h"

namespace sluice::registry {
namespace {

constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE model_versions (
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  artifact_path TEXT NOT NULL,
  artifact_sha256 TEXT NOT NULL,
  artifact_bytes INTEGER NOT NULL,
  training_set TEXT NOT NULL,
  training_set_version TEXT NOT NULL,
  definition_hash TEXT NOT NULL,
  created_at TEXT NOT NULL,
  current INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (name, version)
);
CREATE TABLE model_metrics (
  name TEXT NOT NULL,
  version INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  metric TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (name, version, seq),
  FOREIGN KEY (name, version) REFERENCES model_versions(name, version)
);
)sql",
};

constexpr const char* kColumns =
    "name, version, artifact_path, artifact_sha256, artifact_bytes, training_set, "
    "training_set_version, definition_hash, created_at, current";

ModelVersion ReadVersion(const SqliteStatement& s) {
  ModelVersion v;
  v.name = s.Text(0);
  v.version = static_cast<int>(s.Int(1));
  v.artifact_path = s.Text(2);
  v.artifact_sha256 = s.Text(3);
  v.artifact_bytes = s.Int(4);
  v.training_set = s.Text(5);
  v.training_set_version = s.Text(6);
  v.definition_hash = s.Text(7);
  v.created_at = s.Text(8);
  v.current = s.Int(9) != 0;
  return v;
}

base::Status ReadMetrics(sqlite3* db, ModelVersion& v) {
  SqliteStatement s(db,
                    "SELECT metric, value FROM model_metrics WHERE name = ?1 AND version = ?2 "
                    "ORDER BY seq");
  if (!s.ok()) return SqliteError(db, "cannot read model metrics");
  s.Bind(1, v.name);
  s.Bind(2, static_cast<std::int64_t>(v.version));
  while (s.Row())
    v.metrics.emplace_back(s.Text(0), s.Text(1));
  return base::Status::Ok();
}

}  // namespace

struct ModelRegistry::Handle {
  sqlite3* db = nullptr;
  ~Handle() { SqliteClose(db); }
};

ModelRegistry::ModelRegistry(std::unique_ptr<Handle> handle) : handle_(std::move(handle)) {}
ModelRegistry::ModelRegistry(ModelRegistry&&) noexcept = default;
ModelRegistry& ModelRegistry::operator=(ModelRegistry&&) noexcept = default;
ModelRegistry::~ModelRegistry() = default;

base::Result<ModelRegistry> ModelRegistry::Open(const std::filesystem::path& path) {
  auto handle = std::make_unique<Handle>();
  SLUICE_RETURN_IF_ERROR(SqliteOpen(path, &handle->db));
  SLUICE_RETURN_IF_ERROR(
      MigratePart(handle->db, "models", kMigrations, std::size(kMigrations), path));
  return ModelRegistry(std::move(handle));
}

base::Result<ModelVersion> ModelRegistry::Register(ModelVersion v) {
  sqlite3* db = handle_->db;
  SLUICE_RETURN_IF_ERROR(SqliteExec(db, "BEGIN IMMEDIATE", "registering a model"));
  auto body = [&]() -> base::Status {
    SqliteStatement next(
        db, "SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions WHERE name = ?1");
    next.Bind(1, v.name);
    if (!next.Row()) return SqliteError(db, "cannot number the model version");
    v.version = static_cast<int>(next.Int(0));
    SqliteStatement clear(db, "UPDATE model_versions SET current = 0 WHERE name = ?1");
    clear.Bind(1, v.name);
    if (!clear.Done()) return SqliteError(db, "cannot register the model");
    const std::string sql = std::string("INSERT INTO model_versions(") + kColumns +
                            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1)";
    SqliteStatement ins(db, sql.c_str());
    ins.Bind(1, v.name);
    ins.Bind(2, static_cast<std::int64_t>(v.version));
    ins.Bind(3, v.artifact_path);
    ins.Bind(4, v.artifact_sha256);
    ins.Bind(5, v.artifact_bytes);
    ins.Bind(6, v.training_set);
    ins.Bind(7, v.training_set_version);
    ins.Bind(8, v.definition_hash);
    ins.Bind(9, v.created_at);
    if (!ins.Done()) return SqliteError(db, "cannot register the model");
    for (size_t i = 0; i < v.metrics.size(); ++i) {
      SqliteStatement m(db,
                        "INSERT INTO model_metrics(name, version, seq, metric, value) VALUES (?1, "
                        "?2, ?3, ?4, ?5)");
      m.Bind(1, v.name);
      m.Bind(2, static_cast<std::int64_t>(v.version));
      m.Bind(3, static_cast<std::int64_t>(i));
      m.Bind(4, v.metrics[i].first);
      m.Bind(5, v.metrics[i].second);
      if (!m.Done()) return SqliteError(db, "cannot record model metrics");
    }
    return base::Status::Ok();
  };
  if (base::Status s = body(); !s.ok()) {
    SqliteRollback(db);
    return s;
  }
  SLUICE_RETURN_IF_ERROR(SqliteExec(db, "COMMIT", "registering a model"));
  v.current = true;
  return v;
}

base::Result<std::vector<ModelVersion>> ModelRegistry::Versions(const std::string& name) {
  const std::string sql =
      std::string("SELECT ") + kColumns + " FROM model_versions WHERE name = ?1 ORDER BY version";
  SqliteStatement s(handle_->db, sql.c_str());
  if (!s.ok()) return SqliteError(handle_->db, "cannot list model versions");
  s.Bind(1, name);
  std::vector<ModelVersion> out;
  while (s.Row())
    out.push_back(ReadVersion(s));
  for (auto& v : out)
    SLUICE_RETURN_IF_ERROR(ReadMetrics(handle_->db, v));
  return out;
}

base::Result<std::vector<ModelVersion>> ModelRegistry::Current() {
  const std::string sql =
      std::string("SELECT ") + kColumns + " FROM model_versions WHERE current = 1 ORDER BY name";
  SqliteStatement s(handle_->db, sql.c_str());
  if (!s.ok()) return SqliteError(handle_->db, "cannot list models");
  std::vector<ModelVersion> out;
  while (s.Row())
    out.push_back(ReadVersion(s));
  for (auto& v : out)
    SLUICE_RETURN_IF_ERROR(ReadMetrics(handle_->db, v));
  return out;
}

base::Result<ModelVersion> ModelRegistry::Rollback(const std::string& name) {
  SLUICE_ASSIGN_OR_RETURN(auto versions, Versions(name));
  if (versions.empty()) return base::NotFound("no registered model '" + name + "'");
  size_t cur = versions.size() - 1;
  for (size_t i = 0; i < versions.size(); ++i) {
    if (versions[i].current) cur = i;
  }
  if (cur == 0) {
    return base::FailedPrecondition("model '" + name + "' is at its first version (v" +
                                    std::to_string(versions[0].version) +
                                    "); there is nothing to roll back to");
  }
  sqlite3* db = handle_->db;
  SLUICE_RETURN_IF_ERROR(SqliteExec(db, "BEGIN IMMEDIATE", "rolling back a model"));
  SqliteStatement u(db, "UPDATE model_versions SET current = (version = ?2) WHERE name = ?1");
  u.Bind(1, name);
  u.Bind(2, static_cast<std::int64_t>(versions[cur - 1].version));
  if (!u.Done()) {
    base::Status s = SqliteError(db, "cannot roll back model '" + name + "'");
    SqliteRollback(db);
    return s;
  }
  SLUICE_RETURN_IF_ERROR(SqliteExec(db, "COMMIT", "rolling back a model"));
  versions[cur - 1].current = true;
  return versions[cur - 1];
}

}  // namespace sluice::registry
