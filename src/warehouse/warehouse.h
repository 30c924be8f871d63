#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "config/project.h"
#include "types/schema.h"

// The warehouse where SQL models run: one interface, two implementations (embedded DuckDB, the
// default, and an external PostgreSQL server). Everything that talks to either as a warehouse
// goes through this interface; driver headers stay in the implementations' .cpp files.
namespace sluice::warehouse {

// A place in a SQL text: 1-based line and 1-based column counted in characters (UTF-8 code
// points), as an editor shows it.
struct SqlPosition {
  int line = 0;
  int column = 0;
  bool operator==(const SqlPosition&) const = default;
};

enum class RelationKind { kNone, kTable, kView };

// Query results rendered as text by the warehouse itself; NULL is nullopt. For showing rows to
// people (test failures), never for moving data.
struct TextRows {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
};

// One session (connection) to the warehouse. Not thread-safe: a thread that needs its own uses
// NewSession(). Every method that runs caller SQL takes an optional `where`: on failure it is set
// to the position in that SQL text the warehouse blamed (DuckDB's "LINE n:" excerpt,
// PostgreSQL's error position), and the Status message is the driver's message without its own
// position excerpt. Errors in the caller's SQL are kInvalidArgument; unreachable servers are
// kUnavailable (retryable).
class Warehouse {
 public:
  virtual ~Warehouse() = default;

  // "duckdb" or "postgres".
  virtual std::string_view Kind() const = 0;
  // For messages: "duckdb .sluice/warehouse.duckdb", "postgres host:5432/db schema analytics".
  // Never contains a password.
  virtual std::string Describe() const = 0;
  // Another session on the same warehouse (a DuckDB connection to the same database, a new
  // PostgreSQL connection), for another thread.
  virtual base::Result<std::unique_ptr<Warehouse>> NewSession() = 0;

  // The SQL text naming relation `name` in the warehouse's schema: quoted, and in PostgreSQL
  // qualified with the schema.
  virtual std::string RelationSql(std::string_view name) const = 0;

  // Runs one or more ';'-separated statements; results are discarded.
  virtual base::Status Execute(std::string_view sql,
                               std::optional<SqlPosition>* where = nullptr) = 0;
  // The single integer of a one-row, one-column result (e.g. count(*)). NULL is an error.
  virtual base::Result<std::int64_t> QueryInt64(std::string_view sql,
                                                std::optional<SqlPosition>* where = nullptr) = 0;
  // At most `max_rows` rows of `sql` (a query), every value rendered as text by the warehouse.
  virtual base::Result<TextRows> QueryText(std::string_view sql, std::size_t max_rows,
                                           std::optional<SqlPosition>* where = nullptr) = 0;

  // Whether relation `name` exists in the warehouse's schema, and what it is.
  virtual base::Result<RelationKind> Relation(std::string_view name) = 0;
  // Drops relation `name` whatever its kind; nothing happens if it does not exist. In PostgreSQL
  // views that depend on it are dropped too (CASCADE); sluice rebuilds missing models.
  base::Status Drop(std::string_view name);
  // The columns of relation `name` as sluice types. A column of a type sluice cannot hold
  // (INTERVAL, JSON, arrays...) is InvalidArgument naming it: CAST it in the model's SQL.
  virtual base::Result<types::Schema> Columns(std::string_view name) = 0;

  // Makes Parquet files (a lake dataset version's data parts, all with `schema`) readable as
  // relation `name`: in DuckDB a view over the files (replaced each time, cheap), in PostgreSQL a
  // table loaded with COPY FROM STDIN the first time and kept (the name carries the version id,
  // so its content never changes). `scratch_dir` holds temporary files. Returns true if rows
  // were loaded.
  virtual base::Result<bool> AttachParquet(std::string_view name,
                                           const std::vector<std::filesystem::path>& files,
                                           const types::Schema& schema,
                                           const std::filesystem::path& scratch_dir) = 0;

  // Drops the tables AttachParquet loaded for other versions of the same data: those named
  // `prefix` followed by 12 lowercase hex digits, except `keep`, that nothing depends on (a
  // view still reading one keeps it). PostgreSQL only, where each is a full copy; DuckDB's are
  // views over lake files and cost nothing. Returns how many were dropped.
  virtual base::Result<int> DropOtherVersions(std::string_view prefix, std::string_view keep) = 0;

  // Writes every row of relation `name` to the Parquet file `file` with the lake's codec
  // `compression`, sorted by all columns so the same rows always give the same bytes. Returns
  // the number of rows.
  virtual base::Result<std::int64_t> ExportParquet(std::string_view name,
                                                   const std::filesystem::path& file,
                                                   config::LakeCompression compression,
                                                   const std::filesystem::path& scratch_dir) = 0;
};

// Opens the warehouse a project declares. A DuckDB path is relative to `project_dir` unless
// absolute; its folder is created. A PostgreSQL schema is created if missing.
base::Result<std::unique_ptr<Warehouse>> OpenWarehouse(const config::WarehouseSpec& spec,
                                                       const std::filesystem::path& project_dir);

// Opens an embedded DuckDB warehouse at `path` (":memory:" for a private in-memory one).
// `threads` 0 means DuckDB's default (one per core).
base::Result<std::unique_ptr<Warehouse>> OpenDuckDbWarehouse(const std::string& path, int threads);

// Opens a PostgreSQL warehouse on `schema` (created if missing).
base::Result<std::unique_ptr<Warehouse>> OpenPostgresWarehouse(
    const config::ConnectionSpec& connection, const std::string& schema);

// The SELECT that reads a dataset version's Parquet parts (`files`, all with `schema`) in DuckDB:
// every declared column cast to its declared type; no files gives no rows but the columns.
// AttachParquet's DuckDB view and every scan of a lake version (profiles, drift) use it.
std::string ParquetSelectSql(const std::vector<std::filesystem::path>& files,
                             const types::Schema& schema);

// The option of DuckDB's COPY ... TO (FORMAT parquet, ...) that writes the lake's codec `c`:
// "COMPRESSION zstd", "COMPRESSION lz4_raw" (lz4), "COMPRESSION snappy" or
// "COMPRESSION uncompressed" (none).
std::string ParquetCompressionOption(config::LakeCompression c);

// 1-based (line, column in characters) of byte `offset` in `text`; for mapping positions.
SqlPosition PositionOfOffset(std::string_view text, std::size_t offset);
// The byte offset of `position` in `text` (clamped to the text); the inverse of the above.
std::size_t OffsetOfPosition(std::string_view text, SqlPosition position);

}  // namespace sluice::warehouse
