#include "registry/sqlite_access.h"

#include <sqlite3.h>

namespace sluice::registry {

SqliteStatement::SqliteStatement(sqlite3* db, const char* sql) {
  ok_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) == SQLITE_OK;
}
SqliteStatement::~SqliteStatement() {
  sqlite3_finalize(stmt_);
}

void SqliteStatement::Bind(int i, const std::string& v) {
  sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}
void SqliteStatement::Bind(int i, std::int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
}
void SqliteStatement::BindNull(int i) {
  sqlite3_bind_null(stmt_, i);
}
bool SqliteStatement::Row() {
  return ok_ && sqlite3_step(stmt_) == SQLITE_ROW;
}
bool SqliteStatement::Done() {
  return ok_ && sqlite3_step(stmt_) == SQLITE_DONE;
}
std::string SqliteStatement::Text(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  return p ? reinterpret_cast<const char*>(p) : "";
}
std::int64_t SqliteStatement::Int(int col) const {
  return sqlite3_column_int64(stmt_, col);
}
bool SqliteStatement::IsNull(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

base::Status SqliteError(sqlite3* db, const std::string& what) {
  const int code = sqlite3_errcode(db);
  const bool busy = code == SQLITE_BUSY || code == SQLITE_LOCKED;
  return base::IoError("registry: " + what + ": " + sqlite3_errmsg(db), busy);
}

base::Status SqliteExec(sqlite3* db, const std::string& sql, const std::string& what) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    return base::IoError("registry: " + what + ": " + msg);
  }
  return base::Status::Ok();
}

void SqliteRollback(sqlite3* db) {
  sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
}

std::int64_t SqliteLastInsertId(sqlite3* db) {
  return sqlite3_last_insert_rowid(db);
}
int SqliteChanges(sqlite3* db) {
  return sqlite3_changes(db);
}

// synchronous=NORMAL: in WAL mode a commit is then not fsynced, only checkpoints are. A crash of
// sluice loses nothing and the database stays consistent; a power cut may lose the last
// commits of run history. It cuts a backfill's per-partition cost from ~35 ms (six fsyncs) to a
// few ms.
base::Status SqliteOpen(const std::filesystem::path& path, sqlite3** db) {
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  if (sqlite3_open_v2(path.c_str(), db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    return base::IoError("registry: cannot open '" + path.string() +
                         "': " + (*db ? sqlite3_errmsg(*db) : "out of memory"));
  }
  sqlite3_busy_timeout(*db, 10'000);
  return SqliteExec(*db,
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; "
                    "CREATE TABLE IF NOT EXISTS "
                    "registry_parts (part TEXT PRIMARY KEY, version INTEGER NOT NULL)",
                    "cannot configure '" + path.string() + "'");
}

void SqliteClose(sqlite3* db) {
  sqlite3_close(db);
}

base::Status MigratePart(sqlite3* db, const std::string& part, const char* const* migrations,
                         std::size_t count, const std::filesystem::path& path) {
  SLUICE_RETURN_IF_ERROR(SqliteExec(db, "BEGIN IMMEDIATE", "migrating " + part));
  auto migrate = [&]() -> base::Status {
    std::int64_t version = 0;
    SqliteStatement s(db, "SELECT version FROM registry_parts WHERE part = ?1");
    s.Bind(1, part);
    if (s.Row()) version = s.Int(0);
    const auto known = static_cast<std::int64_t>(count);
    if (version > known) {
      return base::FailedPrecondition("registry: '" + path.string() + "' has " + part +
                                      " tables of version " + std::to_string(version) +
                                      ", newer than this sluice (" + std::to_string(known) +
                                      "); upgrade sluice");
    }
    for (std::int64_t v = version; v < known; ++v) {
      SLUICE_RETURN_IF_ERROR(
          SqliteExec(db, migrations[v], part + " tables migration " + std::to_string(v + 1)));
    }
    if (version == known) return base::Status::Ok();
    SqliteStatement u(db, "INSERT OR REPLACE INTO registry_parts(part, version) VALUES (?1, ?2)");
    u.Bind(1, part);
    u.Bind(2, known);
    if (!u.Done()) return SqliteError(db, "cannot record the " + part + " tables' version");
    return base::Status::Ok();
  };
  base::Status s = migrate();
  if (!s.ok()) {
    SqliteRollback(db);
    return s;
  }
  return SqliteExec(db, "COMMIT", "migrating " + part);
}

}  // namespace sluice::registry
