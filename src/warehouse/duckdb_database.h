#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "types/batch.h"
#include "types/schema.h"

namespace sluice::warehouse {

// An embedded DuckDB database with one connection: the only way sluice reaches DuckDB.
// Move-only; closing happens in the destructor. Not thread-safe: one DuckDb per thread, or
// external locking. Every failure comes back as a Status carrying DuckDB's own error text; a
// moved-from object answers FailedPrecondition.
class DuckDb {
 public:
  struct Options {
    int threads = 0;                          // 0: DuckDB's default (one per core)
    std::optional<std::string> memory_limit;  // DuckDB syntax, e.g. "2GB"
    bool read_only = false;                   // file databases only
  };

  // `path` is ":memory:" (or empty) for a private in-memory database, else a database file that
  // is created if missing. A file locked by another process is a retryable kIoError.
  static base::Result<DuckDb> Open(const std::string& path, const Options& options);
  static base::Result<DuckDb> Open(const std::string& path) { return Open(path, Options{}); }

  // Another connection to the same database (same file or in-memory instance, same settings),
  // for running statements on several threads at once: each thread uses its own DuckDb. The
  // database closes when its last connection does.
  base::Result<DuckDb> Connect() const;

  DuckDb(DuckDb&&) noexcept;
  DuckDb& operator=(DuckDb&&) noexcept;
  DuckDb(const DuckDb&) = delete;
  DuckDb& operator=(const DuckDb&) = delete;
  ~DuckDb();

  // Runs one or more ';'-separated statements and discards any result. Parser, binder and
  // catalog errors are kInvalidArgument; file-system errors kIoError; see README for the rest.
  base::Status Execute(std::string_view sql);

  // Execute, calling `progress` with the fraction done (0..1) from a helper thread about five
  // times a second while the statement runs (long COPY statements, for progress meters).
  base::Status ExecuteWithProgress(std::string_view sql,
                                   const std::function<void(double)>& progress);

  // Runs `sql` (the last statement's result is returned) and converts it to a Batch. Column
  // types map as documented in README.md; any other type fails naming the column and its type,
  // so the caller can CAST in SQL. Result column names must be unique.
  base::Result<types::Batch> Query(std::string_view sql);
  // Query for large results (one statement): the rows stream from DuckDB chunk by chunk into
  // columns reserved for `expected_rows` (an estimate; any count works), instead of DuckDB
  // materializing the whole result first and the columns growing while it is copied.
  base::Result<types::Batch> QueryStreaming(std::string_view sql, size_t expected_rows);
  // Runs `sql` (one statement) and hands its result to `visit` one chunk of rows at a time
  // (DuckDB's vector size, a few thousand rows), converted as Query does into one batch that is
  // cleared and refilled between calls: results of any size in constant memory, for callers that
  // fold rows into their own structures. A non-OK status from `visit` stops the query and is
  // returned.
  base::Status QueryChunks(std::string_view sql,
                           const std::function<base::Status(const types::Batch&)>& visit);
  // One chunk of a one-column numeric result, for QueryNumberChunks.
  struct NumberChunk {
    types::LogicalType type = types::LogicalType::kInt64;  // kInt64 or kDouble
    const void* values = nullptr;  // `rows` 8-byte values; a NULL row's slot holds anything
    const std::uint64_t* validity = nullptr;  // row r is valid iff bit r % 64 of word r / 64 is
                                              // set; nullptr: every row is
    size_t rows = 0;
  };
  // QueryChunks for a result of one numeric column, for callers that fold hundreds of millions
  // of numbers: a BIGINT or DOUBLE column's values are handed where DuckDB holds them, valid
  // during `visit` only, instead of being copied into a batch first; other numbers are converted
  // as Query does (to kInt64 or kDouble); a column that is not a number fails, naming its type.
  base::Status QueryNumberChunks(std::string_view sql,
                                 const std::function<base::Status(const NumberChunk&)>& visit);
  // QueryNumberChunks for a consumer that cannot fail, faster: with the database on one thread
  // (SwapThreads(1)) and a BIGINT or DOUBLE result, `visit` is called from inside DuckDB's
  // pipeline (by a function of sluice's in a WHERE clause) on each chunk as the scan produces
  // it, in order, still in cache, with no streamed result to buffer and copy it; otherwise as
  // QueryNumberChunks.
  base::Status FoldNumbers(std::string_view sql,
                           const std::function<void(const NumberChunk&)>& visit);

  // A query parsed, bound and planned once and run many times, e.g. the same SQL over a
  // registered batch (RegisterBatch) refilled between runs: on small inputs planning costs more
  // than running. Move-only; must not outlive the DuckDb that prepared it.
  class Prepared {
   public:
    Prepared(Prepared&&) noexcept;
    Prepared& operator=(Prepared&&) noexcept;
    ~Prepared();
    // Runs the statement and converts its result as Query does.
    base::Result<types::Batch> Run();

   private:
    friend class DuckDb;
    struct Handle;
    explicit Prepared(std::unique_ptr<Handle> handle);
    std::unique_ptr<Handle> handle_;
  };
  // `sql` (one statement) prepared; its errors are Query's, with their kind.
  base::Result<Prepared> Prepare(std::string_view sql);

  // The single value of a one-row, one-column result, rendered as text (a DuckDB VARCHAR is
  // returned verbatim). Fails on zero rows, more than one column, or NULL.
  base::Result<std::string> QueryScalarString(std::string_view sql);
  // Same for an integer result (BOOLEAN..BIGINT), e.g. "SELECT count(*) FROM t".
  base::Result<std::int64_t> QueryScalarInt64(std::string_view sql);

  // Sets the instance's thread count (DuckDB's `threads`, for every connection) and returns
  // the one it replaces, so a caller can run one statement on fewer threads and restore it.
  base::Result<int> SwapThreads(int threads);

  // Appends every row of `batch` to the existing table `table` (an unquoted name in the current
  // schema). Batch columns are matched to table columns by name; table columns missing from the
  // batch get their default. DuckDB casts where the table's types differ (int64 -> INTEGER...)
  // and reports values that do not fit. All rows or none are appended.
  base::Status Append(std::string_view table, const types::Batch& batch);

  // Makes `batch` readable in SQL as the table function `name`() (e.g. SELECT * FROM name()),
  // on one thread, rows in batch order, so a POSITIONAL JOIN can line it up with another
  // relation. The batch is read in place, not copied: it must stay alive and unchanged while
  // any statement reading it runs. For large outputs sluice computed itself, where appending to
  // a table would copy every value twice. A name can be registered once per database.
  base::Status RegisterBatch(std::string_view name, const types::Batch* batch);

  // CREATE TABLE with one column per field (NOT NULL for non-nullable fields).
  base::Status CreateTable(std::string_view table, const types::Schema& schema,
                           bool replace_existing = false);

  // The DuckDB library version, e.g. "v1.4.4".
  static std::string_view Version();

 private:
  struct Handles;
  explicit DuckDb(std::unique_ptr<Handles> handles);
  base::Status CheckOpen() const;

  std::unique_ptr<Handles> handles_;
};

// `name` as a double-quoted SQL identifier ("my ""odd"" name"), safe for any input.
std::string QuoteIdentifier(std::string_view name);
// `text` as a single-quoted SQL string literal ('it''s'), safe for any input without NUL bytes
// (DuckDB strings cannot hold them; callers must reject such input first).
std::string QuoteLiteral(std::string_view text);
// The DuckDB type a sluice logical type is stored as: BOOLEAN, BIGINT, DOUBLE, VARCHAR,
// TIMESTAMP, DATE.
std::string_view DuckDbTypeName(types::LogicalType type);

// The session settings of every connection that evaluates feature SQL (row expressions,
// derived features, training sets, online reads): UTC, so a time function in a feature gives the
// same value whatever the machine's time zone.
inline constexpr std::string_view kFeatureSqlSession = "SET TimeZone = 'UTC'";
// The one way to open DuckDB for feature SQL: in memory, with kFeatureSqlSession applied.
base::Result<DuckDb> OpenFeatureSqlDb(const DuckDb::Options& options = {});
// Another connection to `db` (for another thread), with kFeatureSqlSession applied.
base::Result<DuckDb> ConnectFeatureSql(const DuckDb& db);

}  // namespace sluice::warehouse
