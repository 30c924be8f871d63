#include "connectors/postgres_source.h"

#include <libpq-fe.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <utility>

namespace sluice::connectors {
namespace {

using warehouse::PostgresError;
using warehouse::ScrubPassword;

// Without it libpq waits for the kernel's TCP timeout (minutes) on a host that drops packets.
// Placed before the dsn in the keyword list, so a dsn's own connect_timeout wins.
constexpr const char* kConnectTimeoutSeconds = "10";
constexpr const char* kApplicationName = "sluice";

// Every session is pinned to these so the bytes written do not depend on server or role
// defaults: UTC for timestamptz text, ISO dates, UTF-8, and (PostgreSQL 12+) the shortest float
// text that reads back to the same value.
constexpr const char* kSessionSql =
    "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 3; "
    "SET client_encoding = 'UTF8'; SET IntervalStyle = 'postgres'";

// Microseconds are PostgreSQL's full precision, so the text reads back to the same instant.
constexpr const char* kTimestampFormat = "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'";

// Built-in type OIDs (stable across versions; pg_type_d.h is a server header).
constexpr Oid kBoolOid = 16;
constexpr Oid kByteaOid = 17;
constexpr Oid kCharOid = 18;
constexpr Oid kNameOid = 19;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kTextOid = 25;
constexpr Oid kOidOid = 26;
constexpr Oid kJsonOid = 114;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kBpcharOid = 1042;
constexpr Oid kVarcharOid = 1043;
constexpr Oid kDateOid = 1082;
constexpr Oid kTimeOid = 1083;
constexpr Oid kTimestampOid = 1114;
constexpr Oid kTimestamptzOid = 1184;
constexpr Oid kIntervalOid = 1186;
constexpr Oid kTimetzOid = 1266;
constexpr Oid kNumericOid = 1700;
constexpr Oid kUuidOid = 2950;

// DuckDB's widest decimal; an unconstrained numeric is reported as DECIMAL(38,10).
constexpr int kMaxDecimalPrecision = 38;

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using Conn = std::unique_ptr<PGconn, ConnCloser>;
struct ResultCloser {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultCloser>;
std::string QuoteIdent(std::string_view name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string Upper(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// One connection for one operation, with the deterministic session settings applied.
class Session {
 public:
  static base::Result<Session> Open(const config::ConnectionSpec& spec) {
    SLUICE_ASSIGN_OR_RETURN(std::string conninfo, ConnectionString(spec));
    const char* keywords[] = {"connect_timeout", "application_name", "dbname", nullptr};
    const char* values[] = {kConnectTimeoutSeconds, kApplicationName, conninfo.c_str(), nullptr};
    Conn conn(PQconnectdbParams(keywords, values, /*expand_dbname=*/1));
    if (!conn) return base::Internal("libpq could not allocate a connection");
    if (PQstatus(conn.get()) != CONNECTION_OK) {
      return base::Unavailable("cannot connect to PostgreSQL (" + DescribeConnection(spec) +
                               "): " + ScrubPassword(PQerrorMessage(conn.get()), conninfo));
    }
    // Queries of a source may raise NOTICEs; libpq would print them to stderr.
    PQsetNoticeProcessor(
        conn.get(), [](void*, const char*) {}, nullptr);
    Session session(std::move(conn), std::move(conninfo), DescribeConnection(spec));
    SLUICE_RETURN_IF_ERROR(session.Exec(kSessionSql).status());
    return session;
  }

  PGconn* get() const { return conn_.get(); }

  // Runs `sql` (simple protocol: may hold several statements) and expects success.
  base::Result<PgResult> Exec(const std::string& sql) {
    PgResult res(PQexec(conn_.get(), sql.c_str()));
    return Check(std::move(res));
  }

  base::Result<PgResult> ExecParams(const std::string& sql, const std::vector<std::string>& args) {
    std::vector<const char*> values;
    for (const auto& a : args)
      values.push_back(a.c_str());
    PgResult res(PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr,
                              values.data(), nullptr, nullptr, 0));
    return Check(std::move(res));
  }

  base::Result<PgResult> Check(PgResult res) {
    const ExecStatusType st = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_COPY_OUT) return res;
    return Error(res.get());
  }

  base::Status Error(const PGresult* res) const {
    const std::string where = "PostgreSQL (" + description_ + "): ";
    return PostgresError(conn_.get(), res, conninfo_, where, where);
  }

  // For SQL text: COPY takes no bind parameters, so values are inlined as escaped literals.
  base::Result<std::string> Literal(const std::string& value) const {
    char* lit = PQescapeLiteral(conn_.get(), value.data(), value.size());
    if (lit == nullptr) {
      return base::InvalidArgument("cannot quote a value for PostgreSQL: " +
                                   ScrubPassword(PQerrorMessage(conn_.get()), conninfo_));
    }
    std::string out(lit);
    PQfreemem(lit);
    return out;
  }

  const std::string& description() const { return description_; }

 private:
  Session(Conn conn, std::string conninfo, std::string description)
      : conn_(std::move(conn)),
        conninfo_(std::move(conninfo)),
        description_(std::move(description)) {}

  Conn conn_;
  std::string conninfo_;  // secret: used only to scrub messages
  std::string description_;
};

bool IsIdentStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}
bool IsIdentChar(char c) {
  return IsIdentStart(c) || std::isdigit(static_cast<unsigned char>(c)) || c == '$';
}

// True for `name`, `schema.name`, `db.schema.name`, each part bare or "double-quoted". The name
// goes into SQL as written (so bare names fold to lower case, as in PostgreSQL itself); anything
// else must be a query.
bool IsQualifiedName(std::string_view s) {
  size_t i = 0;
  int parts = 0;
  while (true) {
    if (i < s.size() && s[i] == '"') {
      ++i;
      bool closed = false, any = false;
      while (i < s.size()) {
        if (s[i] == '"') {
          if (i + 1 < s.size() && s[i + 1] == '"') {
            i += 2;
            any = true;
            continue;
          }
          ++i;
          closed = true;
          break;
        }
        ++i;
        any = true;
      }
      if (!closed || !any) return false;
    } else {
      if (i >= s.size() || !IsIdentStart(s[i])) return false;
      while (i < s.size() && IsIdentChar(s[i]))
        ++i;
    }
    ++parts;
    if (i == s.size()) return parts <= 3;
    if (s[i] != '.') return false;
    ++i;
  }
}

// The FROM item of the source, aliased `src`.
base::Result<std::string> FromItem(const config::SourceSpec& source) {
  if (source.table) {
    if (!IsQualifiedName(*source.table)) {
      return base::InvalidArgument("table '" + *source.table +
                                   "' is not a table name ([schema.]name); use query: for SQL");
    }
    return *source.table + " AS src";
  }
  if (source.query) {
    std::string q = *source.query;
    // A trailing ';' is natural in a query but a syntax error inside a subquery.
    while (!q.empty() && (std::isspace(static_cast<unsigned char>(q.back())) || q.back() == ';'))
      q.pop_back();
    if (q.empty()) return base::InvalidArgument("the query is empty");
    // The newline ends a trailing -- comment before the closing parenthesis.
    return "(" + q + "\n) AS src";
  }
  return base::InvalidArgument("a postgres source needs a table or a query");
}

std::string Where(const config::SourceSpec& source) {
  return source.table ? "table " + *source.table : std::string("the query");
}

struct PgColumn {
  std::string name;
  Oid oid = 0;
  int typmod = -1;
};

// The relation's columns, without reading any row.
base::Result<std::vector<PgColumn>> RelationColumns(Session& session, const std::string& from) {
  SLUICE_ASSIGN_OR_RETURN(PgResult res, session.Exec("SELECT * FROM " + from + " LIMIT 0"));
  std::vector<PgColumn> columns;
  const int n = PQnfields(res.get());
  for (int i = 0; i < n; ++i) {
    columns.push_back({PQfname(res.get(), i), PQftype(res.get(), i), PQfmod(res.get(), i)});
  }
  return columns;
}

base::Result<std::string> DuckdbTypeName(Session& session, const PgColumn& c) {
  switch (c.oid) {
    case kBoolOid:
      return std::string("BOOLEAN");
    case kInt2Oid:
      return std::string("SMALLINT");
    case kInt4Oid:
      return std::string("INTEGER");
    case kInt8Oid:
      return std::string("BIGINT");
    case kOidOid:
      return std::string("UINTEGER");
    case kFloat4Oid:
      return std::string("FLOAT");
    case kFloat8Oid:
      return std::string("DOUBLE");
    case kNumericOid: {
      // typmod = ((precision << 16) | scale) + 4 when declared numeric(p,s).
      if (c.typmod >= 4) {
        const int precision = ((c.typmod - 4) >> 16) & 0xffff;
        const int scale = (c.typmod - 4) & 0xffff;
        if (precision >= 1 && precision <= kMaxDecimalPrecision && scale <= precision) {
          return "DECIMAL(" + std::to_string(precision) + "," + std::to_string(scale) + ")";
        }
      }
      return std::string("DECIMAL(38,10)");
    }
    case kTextOid:
    case kVarcharOid:
    case kBpcharOid:
    case kCharOid:
    case kNameOid:
    case kUuidOid:
      return std::string("VARCHAR");
    case kDateOid:
      return std::string("DATE");
    case kTimestampOid:
      return std::string("TIMESTAMP");
    case kTimestamptzOid:
      return std::string("TIMESTAMP WITH TIME ZONE");
    case kTimeOid:
      return std::string("TIME");
    case kTimetzOid:
      return std::string("TIME WITH TIME ZONE");
    case kIntervalOid:
      return std::string("INTERVAL");
    case kByteaOid:
      return std::string("BLOB");
    case kJsonOid:
      return std::string("JSON");
    default:
      break;
  }
  SLUICE_ASSIGN_OR_RETURN(PgResult res, session.ExecParams("SELECT format_type($1::oid, NULL)",
                                                           {std::to_string(c.oid)}));
  if (PQntuples(res.get()) != 1 || PQgetisnull(res.get(), 0, 0)) {
    return "OID " + std::to_string(c.oid);
  }
  return Upper(PQgetvalue(res.get(), 0, 0));
}

// The schema-qualified type name for a cast: bare `pg_catalog.bpchar` keeps the whole value,
// whereas format_type's `character` would mean char(1) and truncate.
base::Result<std::string> CastTypeName(Session& session, Oid oid) {
  SLUICE_ASSIGN_OR_RETURN(
      PgResult res,
      session.ExecParams("SELECT quote_ident(n.nspname) || '.' || quote_ident(t.typname) "
                         "FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n "
                         "ON n.oid = t.typnamespace WHERE t.oid = $1::oid",
                         {std::to_string(oid)}));
  if (PQntuples(res.get()) != 1) {
    return base::Internal("PostgreSQL type " + std::to_string(oid) + " not found in pg_type");
  }
  return std::string(PQgetvalue(res.get(), 0, 0));
}

// The SQL text expression for one declared column read from a column of PostgreSQL type `oid`.
// NULL stays NULL. Conversions the contract rejects fall back to the value's own text.
std::string RenderExpr(const std::string& col, types::LogicalType declared, Oid oid) {
  auto timestamp = [&](const std::string& as_timestamp) {
    // to_char yields NULL for infinity, which would lose a non-NULL value.
    return "CASE WHEN isfinite(" + col + ") THEN to_char(" + as_timestamp + ", " +
           kTimestampFormat + ") ELSE (" + col + ")::text END";
  };
  switch (declared) {
    case types::LogicalType::kDouble:
      // Shortest float4 text ("0.1") would read back as a different double; widen first.
      if (oid == kFloat4Oid) return "(" + col + ")::float8::text";
      break;
    case types::LogicalType::kTimestamp:
      if (oid == kTimestamptzOid) return timestamp("(" + col + ") AT TIME ZONE 'UTC'");
      if (oid == kTimestampOid) return timestamp(col);
      if (oid == kDateOid) return timestamp("(" + col + ")::timestamp");
      break;
    case types::LogicalType::kDate:
      if (oid == kTimestampOid || oid == kTimestamptzOid) return "(" + col + ")::date::text";
      break;
    case types::LogicalType::kBool:  // bool::text is already true/false
    case types::LogicalType::kInt64:
    case types::LogicalType::kString:
      break;
  }
  return "(" + col + ")::text";
}

struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f) std::fclose(f);
  }
};

}  // namespace

base::Result<std::vector<ObservedColumn>> DescribePostgres(const config::SourceSpec& source) {
  SLUICE_ASSIGN_OR_RETURN(std::string from, FromItem(source));
  SLUICE_ASSIGN_OR_RETURN(Session session, Session::Open(source.connection));
  SLUICE_ASSIGN_OR_RETURN(auto columns, RelationColumns(session, from));
  std::vector<ObservedColumn> observed;
  for (const auto& c : columns) {
    SLUICE_ASSIGN_OR_RETURN(std::string type, DuckdbTypeName(session, c));
    observed.push_back({c.name, std::move(type)});
  }
  return observed;
}

base::Result<PostgresExtract> ExtractPostgres(const config::SourceSpec& source,
                                              const std::optional<std::string>& after_cursor,
                                              const std::filesystem::path& out_csv) {
  if (source.columns.empty()) return base::InvalidArgument("the source declares no columns");
  SLUICE_ASSIGN_OR_RETURN(std::string from, FromItem(source));
  SLUICE_ASSIGN_OR_RETURN(Session session, Session::Open(source.connection));
  // One snapshot for the column types, the rows and the maximum cursor; read-only because a
  // source never writes, whatever its query says.
  SLUICE_RETURN_IF_ERROR(session.Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").status());
  SLUICE_ASSIGN_OR_RETURN(auto pg_columns, RelationColumns(session, from));
  auto find = [&](const std::string& name) -> const PgColumn* {
    for (const auto& c : pg_columns) {
      if (c.name == name) return &c;
    }
    return nullptr;
  };

  std::string select, order, force_quote;
  for (const auto& f : source.columns) {
    const PgColumn* pc = find(f.name);
    if (pc == nullptr) {
      return base::SchemaMismatch("column '" + f.name + "' is declared but " + Where(source) +
                                  " has no such column");
    }
    const std::string out_name = QuoteIdent(f.name);
    if (!select.empty()) select += ", ";
    select += RenderExpr("src." + out_name, f.type, pc->oid) + " AS " + out_name;
    // "C" makes the tie-break order independent of the database's collation.
    order += ", " + out_name + " COLLATE \"C\"";
    if (f.type == types::LogicalType::kString) {
      force_quote += (force_quote.empty() ? "" : ", ") + out_name;
    }
  }

  std::string filter;
  std::string cursor_render;
  std::string outer_order = order.substr(2);
  const std::string cursor_col = source.cursor ? "src." + QuoteIdent(*source.cursor) : "";
  if (source.cursor) {
    const PgColumn* pc = find(*source.cursor);
    const types::Field* declared = source.FindColumn(*source.cursor);
    if (pc == nullptr || declared == nullptr) {
      return base::InvalidArgument("cursor column '" + *source.cursor +
                                   "' must be a declared column of " + Where(source));
    }
    cursor_render = RenderExpr(cursor_col, declared->type, pc->oid);
    // Ordered by the column's own type (not its text), hidden from the output.
    select += ", " + cursor_col + " AS __sluice_cursor";
    outer_order = "__sluice_cursor, " + outer_order;
    if (after_cursor) {
      SLUICE_ASSIGN_OR_RETURN(std::string cast_type, CastTypeName(session, pc->oid));
      SLUICE_ASSIGN_OR_RETURN(std::string literal, session.Literal(*after_cursor));
      filter = " WHERE " + cursor_col + " > " + literal + "::" + cast_type;
    }
  }

  std::string columns_list;
  for (const auto& f : source.columns)
    columns_list += (columns_list.empty() ? "" : ", ") + QuoteIdent(f.name);
  const std::string copy_sql =
      "COPY (SELECT " + columns_list + " FROM (SELECT " + select + " FROM " + from + filter +
      ") AS __sluice_rows ORDER BY " + outer_order +
      ") TO STDOUT WITH (FORMAT csv, HEADER true, NULL E'\\\\N'" +
      (force_quote.empty() ? "" : ", FORCE_QUOTE (" + force_quote + ")") + ")";

  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(out_csv.c_str(), "wb"));
  if (!file) {
    return base::IoError("cannot write " + out_csv.string() + ": " + std::strerror(errno));
  }
  SLUICE_RETURN_IF_ERROR(session.Exec(copy_sql).status());
  // Rows arrive one CSV line per call; only one line is ever held in memory.
  while (true) {
    char* buf = nullptr;
    const int n = PQgetCopyData(session.get(), &buf, /*async=*/0);
    if (n > 0) {
      const size_t written = std::fwrite(buf, 1, static_cast<size_t>(n), file.get());
      PQfreemem(buf);
      if (written != static_cast<size_t>(n)) {
        return base::IoError("cannot write " + out_csv.string() + ": " + std::strerror(errno));
      }
      continue;
    }
    if (n == -2) return session.Error(nullptr);
    break;  // -1: the COPY is done; its outcome is the next result
  }
  PgResult copy_result(PQgetResult(session.get()));
  SLUICE_ASSIGN_OR_RETURN(copy_result, session.Check(std::move(copy_result)));
  while (PgResult extra{PQgetResult(session.get())}) {
  }
  PostgresExtract extract;
  extract.rows = std::strtoll(PQcmdTuples(copy_result.get()), nullptr, 10);
  if (std::fclose(file.release()) != 0) {
    return base::IoError("cannot write " + out_csv.string() + ": " + std::strerror(errno));
  }

  if (source.cursor && extract.rows > 0) {
    SLUICE_ASSIGN_OR_RETURN(
        PgResult res, session.Exec("SELECT " + cursor_render + " FROM " + from +
                                   (filter.empty() ? " WHERE " : filter + " AND ") + cursor_col +
                                   " IS NOT NULL ORDER BY " + cursor_col + " DESC LIMIT 1"));
    if (PQntuples(res.get()) == 1 && !PQgetisnull(res.get(), 0, 0)) {
      extract.max_cursor = std::string(PQgetvalue(res.get(), 0, 0));
    }
  }
  SLUICE_RETURN_IF_ERROR(session.Exec("COMMIT").status());
  return extract;
}

base::Status ExecutePostgres(const config::ConnectionSpec& connection, std::string_view sql) {
  SLUICE_ASSIGN_OR_RETURN(Session session, Session::Open(connection));
  return session.Exec(std::string(sql)).status();
}

}  // namespace sluice::connectors
