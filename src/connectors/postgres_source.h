#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "config/project.h"
#include "connectors/schema_contract.h"
#include "warehouse/postgres_connection.h"

// Reading a PostgreSQL table or query (a `type: postgres` source) through libpq. libpq stays
// inside postgres_source.cpp; callers see only sluice's config and Status values.
//
// Passwords: they come only from the environment and never appear in a Status message, a log
// line or a description (see warehouse/postgres_connection.h).
namespace sluice::connectors {

// Connection strings and descriptions live with the PostgreSQL warehouse (src/warehouse), which
// is below connectors; re-exported here for the callers that reach them through this header.
using warehouse::ConnectionString;
using warehouse::DescribeConnection;

// The columns of the source's table or query, as the schema contract wants them: the relation
// is run with LIMIT 0 and each column's PostgreSQL type is mapped to the DuckDB type name that
// holds it (int4 -> INTEGER, numeric -> DECIMAL(p,s), text/varchar/bpchar/name/uuid -> VARCHAR,
// timestamptz -> TIMESTAMP WITH TIME ZONE...). Types without a DuckDB counterpart come back as
// PostgreSQL's own name upper-cased (JSONB, INTEGER[]), which the contract reports as a retype.
base::Result<std::vector<ObservedColumn>> DescribePostgres(const config::SourceSpec& source);

struct PostgresExtract {
  std::int64_t rows = 0;  // data rows written (the header line not counted)
  // The rendered text (as written to the CSV) of the largest non-NULL cursor value among the
  // rows written; nullopt without a cursor or when no written row has one.
  std::optional<std::string> max_cursor;
};

// Writes the declared columns, in declared order, of the source's rows to `out_csv`
// (overwritten) as CSV with a header line, streamed with COPY so memory stays constant.
//
// Incremental reads: with a cursor column and `after_cursor`, only rows whose cursor is strictly
// greater than `after_cursor` (compared by PostgreSQL on the column's own type) are written;
// without either, every row. Rows must therefore arrive with cursors strictly greater than any
// already extracted: a row committed later with a cursor equal to (or below) the published
// maximum is never read. Rows with a NULL cursor are read only by a full extraction.
//
// Bytes are a function of the database state and `after_cursor` alone: rows are ordered by the
// cursor, then by every written column's text; the session runs in UTC with ISO dates, UTF-8
// and shortest round-trip floats, inside one REPEATABLE READ snapshot.
//
// Rendering, so DuckDB reads each column as its declared type: NULL is \N unquoted; declared
// strings are always quoted (so "" is an empty string and "\N" the two-character text); bools
// true/false; timestamps 2024-01-02T03:04:05.123456Z in UTC (a timestamp without time zone is
// taken as UTC); dates 2024-01-02; doubles with the fewest digits that round-trip; infinite
// dates and timestamps as infinity/-infinity.
//
// Errors: Unavailable (retryable) when the server cannot be reached or the connection drops;
// InvalidArgument for a bad table name, unknown table or column, bad SQL or a bad
// `after_cursor`; IoError when `out_csv` cannot be written.
base::Result<PostgresExtract> ExtractPostgres(const config::SourceSpec& source,
                                              const std::optional<std::string>& after_cursor,
                                              const std::filesystem::path& out_csv);

// Runs `sql` (one or more statements, no results returned) on the server. For set-up work such
// as tests creating tables; sources only ever read.
base::Status ExecutePostgres(const config::ConnectionSpec& connection, std::string_view sql);

}  // namespace sluice::connectors
