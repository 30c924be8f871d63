#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "base/status.h"

struct sqlite3;
struct sqlite3_stmt;

// SQLite access for the registry's tables outside registry.cpp (pipeline runs, models): opening
// a connection, a prepared statement that finalizes itself, and each part's own schema
// migrations. SQLite's header stays in sqlite_access.cpp.
namespace sluice::registry {

class SqliteStatement {
 public:
  SqliteStatement(sqlite3* db, const char* sql);
  ~SqliteStatement();
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  bool ok() const { return ok_; }
  void Bind(int i, const std::string& v);
  void Bind(int i, std::int64_t v);
  void BindNull(int i);
  // True while a row is available; false when done or on error (see Done()).
  bool Row();
  // Runs a statement that returns no rows; false on error.
  bool Done();
  std::string Text(int col) const;
  std::int64_t Int(int col) const;
  bool IsNull(int col) const;

 private:
  sqlite3_stmt* stmt_ = nullptr;
  bool ok_ = false;
};

// "registry: <what>: <sqlite's message>", retryable when the database was busy.
base::Status SqliteError(sqlite3* db, const std::string& what);
// Runs `sql` (several statements allowed); the error carries `what`.
base::Status SqliteExec(sqlite3* db, const std::string& sql, const std::string& what);
// Ends the open transaction without its changes; the error that led here is what matters, so
// a failing ROLLBACK (the transaction is already gone) is not reported.
void SqliteRollback(sqlite3* db);
std::int64_t SqliteLastInsertId(sqlite3* db);
// Opens (creating) the database at `path` in WAL mode (synchronous=NORMAL) with foreign keys
// and a busy timeout.
// The caller closes it with SqliteClose.
base::Status SqliteOpen(const std::filesystem::path& path, sqlite3** db);
void SqliteClose(sqlite3* db);
// Applies the migrations of one part of the registry not applied yet, in one transaction; the
// table registry_parts records each part's version. A part newer than this binary is refused.
base::Status MigratePart(sqlite3* db, const std::string& part, const char* const* migrations,
                         std::size_t count, const std::filesystem::path& path);
int SqliteChanges(sqlite3* db);

}  // namespace sluice::registry
