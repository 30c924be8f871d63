// The PostgreSQL warehouse: models run on an external server, in one schema, through libpq.
#include <libpq-fe.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <random>

#include "warehouse/duckdb_database.h"
#include "warehouse/postgres_connection.h"
#include "warehouse/sql_error.h"
#include "warehouse/warehouse.h"

namespace sluice::warehouse {
namespace {

constexpr const char* kConnectTimeoutSeconds = "10";
constexpr const char* kApplicationName = "sluice";
// Pinned so text renderings (test failure samples, exports) do not depend on server or role
// defaults: UTC timestamps, ISO dates, shortest round-trip floats, UTF-8.
constexpr const char* kSessionSql =
    "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET extra_float_digits = 3; "
    "SET client_encoding = 'UTF8'; SET IntervalStyle = 'postgres'";
constexpr std::size_t kCopyChunkBytes = 1 << 20;

// Built-in type OIDs (stable across versions; pg_type_d.h is a server header).
constexpr Oid kBoolOid = 16;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kTextOid = 25;
constexpr Oid kNameOid = 19;
constexpr Oid kCharOid = 18;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kBpcharOid = 1042;
constexpr Oid kVarcharOid = 1043;
constexpr Oid kDateOid = 1082;
constexpr Oid kTimestampOid = 1114;
constexpr Oid kTimestamptzOid = 1184;
constexpr Oid kNumericOid = 1700;

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using Conn = std::unique_ptr<PGconn, ConnCloser>;
struct ResultCloser {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultCloser>;
struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f) std::fclose(f);
  }
};

std::string PgTypeName(types::LogicalType t) {
  switch (t) {
    case types::LogicalType::kBool:
      return "boolean";
    case types::LogicalType::kInt64:
      return "bigint";
    case types::LogicalType::kDouble:
      return "double precision";
    case types::LogicalType::kString:
      return "text";
    case types::LogicalType::kTimestamp:
      return "timestamp";
    case types::LogicalType::kDate:
      return "date";
  }
  return "text";
}

// A scratch file removed however the operation ends.
class ScratchFile {
 public:
  ScratchFile(const std::filesystem::path& dir, const std::string& suffix) {
    std::random_device rd;
    path_ = dir / ("pg-" + std::to_string(rd()) + suffix);
  }
  ~ScratchFile() {
    std::error_code ec;
    std::filesystem::remove(path_, ec);
  }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

class PostgresWarehouse final : public Warehouse {
 public:
  static base::Result<std::unique_ptr<PostgresWarehouse>> Connect(
      const config::ConnectionSpec& spec, const std::string& schema, bool create_schema) {
    SLUICE_ASSIGN_OR_RETURN(std::string conninfo, ConnectionString(spec));
    const char* keywords[] = {"connect_timeout", "application_name", "dbname", nullptr};
    const char* values[] = {kConnectTimeoutSeconds, kApplicationName, conninfo.c_str(), nullptr};
    Conn conn(PQconnectdbParams(keywords, values, /*expand_dbname=*/1));
    if (!conn) return base::Internal("libpq could not allocate a connection");
    if (PQstatus(conn.get()) != CONNECTION_OK) {
      return base::Unavailable("cannot connect to the PostgreSQL warehouse (" +
                               DescribeConnection(spec) +
                               "): " + ScrubPassword(PQerrorMessage(conn.get()), conninfo));
    }
    // Model SQL may raise NOTICEs (DROP ... IF EXISTS); libpq would print them to stderr.
    PQsetNoticeProcessor(
        conn.get(), [](void*, const char*) {}, nullptr);
    auto w = std::unique_ptr<PostgresWarehouse>(
        new PostgresWarehouse(std::move(conn), std::move(conninfo), spec, schema));
    SLUICE_RETURN_IF_ERROR(w->Execute(kSessionSql, nullptr));
    if (create_schema) {
      SLUICE_RETURN_IF_ERROR(
          w->Execute("CREATE SCHEMA IF NOT EXISTS " + QuoteIdentifier(schema), nullptr));
    }
    // Unqualified names in model SQL resolve in the warehouse schema first.
    SLUICE_RETURN_IF_ERROR(w->Execute(
        "SET search_path TO " + QuoteIdentifier(schema) + (schema == "public" ? "" : ", public"),
        nullptr));
    return w;
  }

  std::string_view Kind() const override { return "postgres"; }
  std::string Describe() const override {
    return "postgres " + DescribeConnection(spec_) + " schema " + schema_;
  }

  base::Result<std::unique_ptr<Warehouse>> NewSession() override {
    SLUICE_ASSIGN_OR_RETURN(auto w, Connect(spec_, schema_, /*create_schema=*/false));
    return std::unique_ptr<Warehouse>(std::move(w));
  }

  std::string RelationSql(std::string_view name) const override {
    return QuoteIdentifier(schema_) + "." + QuoteIdentifier(name);
  }

  base::Status Execute(std::string_view sql, std::optional<SqlPosition>* where) override {
    return Exec(sql, 0, where).status();
  }

  base::Result<std::int64_t> QueryInt64(std::string_view sql,
                                        std::optional<SqlPosition>* where) override {
    SLUICE_ASSIGN_OR_RETURN(PgResult res, Exec(sql, 0, where));
    if (PQntuples(res.get()) != 1 || PQnfields(res.get()) != 1) {
      return base::InvalidArgument("expected one row with one column, got " +
                                   std::to_string(PQntuples(res.get())) + " rows of " +
                                   std::to_string(PQnfields(res.get())) + " columns");
    }
    if (PQgetisnull(res.get(), 0, 0)) return base::InvalidArgument("expected a number, got NULL");
    return static_cast<std::int64_t>(std::strtoll(PQgetvalue(res.get(), 0, 0), nullptr, 10));
  }

  base::Result<TextRows> QueryText(std::string_view sql, std::size_t max_rows,
                                   std::optional<SqlPosition>* where) override {
    const std::string wrapped = "SELECT * FROM (\n" + std::string(sql) +
                                "\n) AS sluice_rows LIMIT " + std::to_string(max_rows);
    SLUICE_ASSIGN_OR_RETURN(PgResult res, Exec(wrapped, 1, where));
    TextRows out;
    const int cols = PQnfields(res.get());
    for (int c = 0; c < cols; ++c)
      out.columns.emplace_back(PQfname(res.get(), c));
    for (int r = 0; r < PQntuples(res.get()); ++r) {
      std::vector<std::optional<std::string>> row;
      for (int c = 0; c < cols; ++c) {
        row.push_back(PQgetisnull(res.get(), r, c)
                          ? std::nullopt
                          : std::optional<std::string>(PQgetvalue(res.get(), r, c)));
      }
      out.rows.push_back(std::move(row));
    }
    return out;
  }

  base::Result<RelationKind> Relation(std::string_view name) override {
    SLUICE_ASSIGN_OR_RETURN(
        PgResult res,
        ExecParams("SELECT table_type FROM information_schema.tables WHERE table_schema = $1 "
                   "AND table_name = $2",
                   {schema_, std::string(name)}));
    if (PQntuples(res.get()) == 0) return RelationKind::kNone;
    return std::string(PQgetvalue(res.get(), 0, 0)) == "VIEW" ? RelationKind::kView
                                                              : RelationKind::kTable;
  }

  base::Result<int> DropOtherVersions(std::string_view prefix, std::string_view keep) override {
    // LIKE with the prefix's own '_' and '%' escaped, then the exact shape checked here.
    std::string like;
    for (char c : prefix) {
      if (c == '_' || c == '%' || c == '\\') like += '\\';
      like += c;
    }
    SLUICE_ASSIGN_OR_RETURN(
        PgResult res,
        ExecParams("SELECT table_name FROM information_schema.tables WHERE table_schema = $1 "
                   "AND table_type = 'BASE TABLE' AND table_name LIKE $2 ORDER BY 1",
                   {schema_, like + "%"}));
    std::vector<std::string> stale;
    for (int r = 0; r < PQntuples(res.get()); ++r) {
      const std::string table = PQgetvalue(res.get(), r, 0);
      const std::string_view suffix = std::string_view(table).substr(prefix.size());
      const bool versioned =
          suffix.size() == 12 && std::all_of(suffix.begin(), suffix.end(), [](char c) {
            return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
          });
      if (versioned && table != keep) stale.push_back(table);
    }
    int dropped = 0;
    for (const auto& table : stale) {
      // No CASCADE: a view built on an old version keeps it (the drop fails, and that is fine).
      if (Execute("DROP TABLE " + RelationSql(table), nullptr).ok()) ++dropped;
    }
    return dropped;
  }

  base::Result<types::Schema> Columns(std::string_view name) override {
    SLUICE_ASSIGN_OR_RETURN(PgResult res,
                            Exec("SELECT * FROM " + RelationSql(name) + " LIMIT 0", 0, nullptr));
    std::vector<types::Field> fields;
    for (int c = 0; c < PQnfields(res.get()); ++c) {
      const std::string column = PQfname(res.get(), c);
      SLUICE_ASSIGN_OR_RETURN(types::LogicalType type, TypeOf(column, PQftype(res.get(), c)));
      fields.push_back({column, type, true});
    }
    return types::Schema::Make(std::move(fields));
  }

  base::Result<bool> AttachParquet(std::string_view name,
                                   const std::vector<std::filesystem::path>& files,
                                   const types::Schema& schema,
                                   const std::filesystem::path& scratch_dir) override {
    SLUICE_ASSIGN_OR_RETURN(RelationKind kind, Relation(name));
    if (kind != RelationKind::kNone) return false;  // loaded by an earlier build

    // DuckDB reads the Parquet parts and writes CSV in a dialect PostgreSQL's COPY reads back
    // exactly: NULL as unquoted \N, strings always quoted (so "" is an empty string).
    ScratchFile csv(scratch_dir, ".csv");
    std::int64_t rows = 0;
    if (!files.empty()) {
      SLUICE_ASSIGN_OR_RETURN(DuckDb db, DuckDb::Open(":memory:"));
      SLUICE_RETURN_IF_ERROR(db.Execute("SET TimeZone = 'UTC'"));
      std::string columns, quoted, list;
      for (const auto& f : schema.fields()) {
        columns += (columns.empty() ? "" : ", ") + QuoteIdentifier(f.name);
        if (f.type == types::LogicalType::kString)
          quoted += (quoted.empty() ? "" : ", ") + QuoteIdentifier(f.name);
      }
      for (const auto& file : files)
        list += (list.empty() ? "" : ", ") + QuoteLiteral(file.string());
      SLUICE_RETURN_IF_ERROR(db.Execute(
          "COPY (SELECT " + columns + " FROM read_parquet([" + list + "])) TO " +
          QuoteLiteral(csv.path().string()) + " (FORMAT csv, HEADER false, NULLSTR '\\N'" +
          (quoted.empty() ? "" : ", FORCE_QUOTE (" + quoted + ")") + ")"));
    }

    std::string ddl;
    for (const auto& f : schema.fields()) {
      ddl += (ddl.empty() ? "" : ", ") + QuoteIdentifier(f.name) + " " + PgTypeName(f.type) +
             (f.nullable ? "" : " NOT NULL");
    }
    // One transaction: the table appears complete or not at all.
    SLUICE_RETURN_IF_ERROR(Execute("BEGIN", nullptr));
    base::Status loaded = [&]() -> base::Status {
      SLUICE_RETURN_IF_ERROR(
          Execute("CREATE TABLE " + RelationSql(name) + " (" + ddl + ")", nullptr));
      if (files.empty()) return base::Status::Ok();
      SLUICE_ASSIGN_OR_RETURN(rows, CopyIn(RelationSql(name), csv.path()));
      return base::Status::Ok();
    }();
    if (!loaded.ok()) {
      (void)Execute("ROLLBACK", nullptr);
      return loaded.WithContext("loading " + std::string(name) + " into PostgreSQL");
    }
    SLUICE_RETURN_IF_ERROR(Execute("COMMIT", nullptr));
    (void)rows;
    return true;
  }

  base::Result<std::int64_t> ExportParquet(std::string_view name, const std::filesystem::path& file,
                                           config::LakeCompression compression,
                                           const std::filesystem::path& scratch_dir) override {
    SLUICE_ASSIGN_OR_RETURN(types::Schema schema, Columns(name));
    // Each column rendered so DuckDB reads it back as the same value and type.
    std::string select, order, quoted, duck_columns, empty_select;
    for (const auto& f : schema.fields()) {
      const std::string c = "r." + QuoteIdentifier(f.name);
      std::string expr;
      switch (f.type) {
        case types::LogicalType::kTimestamp:
          expr = "to_char(" + c + ", 'YYYY-MM-DD HH24:MI:SS.US')";
          break;
        case types::LogicalType::kDouble:
          expr = "(" + c + ")::float8::text";
          break;
        default:
          expr = "(" + c + ")::text";
          break;
      }
      select += (select.empty() ? "" : ", ") + expr + " AS " + QuoteIdentifier(f.name);
      // Byte order for strings, as DuckDB sorts, so both warehouses order rows alike.
      order += (order.empty() ? "" : ", ") + c +
               (f.type == types::LogicalType::kString ? " COLLATE \"C\"" : "");
      if (f.type == types::LogicalType::kString)
        quoted += (quoted.empty() ? "" : ", ") + QuoteIdentifier(f.name);
      const std::string duck_type(DuckDbTypeName(f.type));
      duck_columns += (duck_columns.empty() ? "" : ", ") + QuoteLiteral(f.name) + ": " +
                      QuoteLiteral(duck_type);
      empty_select += (empty_select.empty() ? "" : ", ") + std::string("NULL::") + duck_type +
                      " AS " + QuoteIdentifier(f.name);
    }
    ScratchFile csv(scratch_dir, ".csv");
    SLUICE_ASSIGN_OR_RETURN(
        std::int64_t rows,
        CopyOut("COPY (SELECT " + select + " FROM " + RelationSql(name) + " AS r ORDER BY " +
                    order + ") TO STDOUT WITH (FORMAT csv, HEADER false, NULL E'\\\\N'" +
                    (quoted.empty() ? "" : ", FORCE_QUOTE (" + quoted + ")") + ")",
                csv.path()));
    SLUICE_ASSIGN_OR_RETURN(DuckDb db, DuckDb::Open(":memory:"));
    SLUICE_RETURN_IF_ERROR(db.Execute("SET TimeZone = 'UTC'"));
    const std::string source =
        rows == 0 ? "SELECT " + empty_select + " WHERE false"
                  : "SELECT * FROM read_csv(" + QuoteLiteral(csv.path().string()) +
                        ", header = false, auto_detect = false, delim = ',', quote = '\"', "
                        "escape = '\"', nullstr = '\\N', columns = {" +
                        duck_columns + "})";
    SLUICE_RETURN_IF_ERROR(db.Execute("COPY (" + source + ") TO " + QuoteLiteral(file.string()) +
                                      " (FORMAT parquet, " + ParquetCompressionOption(compression) +
                                      ")"));
    return rows;
  }

 private:
  PostgresWarehouse(Conn conn, std::string conninfo, config::ConnectionSpec spec,
                    std::string schema)
      : conn_(std::move(conn)),
        conninfo_(std::move(conninfo)),
        spec_(std::move(spec)),
        schema_(std::move(schema)) {}

  base::Result<types::LogicalType> TypeOf(const std::string& column, Oid oid) {
    switch (oid) {
      case kBoolOid:
        return types::LogicalType::kBool;
      case kInt2Oid:
      case kInt4Oid:
      case kInt8Oid:
        return types::LogicalType::kInt64;
      case kFloat4Oid:
      case kFloat8Oid:
      case kNumericOid:
        return types::LogicalType::kDouble;
      case kTextOid:
      case kVarcharOid:
      case kBpcharOid:
      case kNameOid:
      case kCharOid:
        return types::LogicalType::kString;
      case kDateOid:
        return types::LogicalType::kDate;
      case kTimestampOid:
      case kTimestamptzOid:
        return types::LogicalType::kTimestamp;
      default:
        break;
    }
    std::string type = "OID " + std::to_string(oid);
    auto res = ExecParams("SELECT format_type($1::oid, NULL)", {std::to_string(oid)});
    if (res.ok() && PQntuples(res->get()) == 1) type = PQgetvalue(res->get(), 0, 0);
    return base::InvalidArgument("column '" + column + "' has PostgreSQL type " + type +
                                 ", which sluice cannot store (bool, integers, floats, numeric, "
                                 "text, date, timestamp); CAST it in the model's SQL");
  }

  base::Result<PgResult> Exec(std::string_view sql, int lines_before,
                              std::optional<SqlPosition>* where) {
    if (sql.find('\0') != std::string_view::npos) {
      return base::InvalidArgument("SQL text contains a NUL byte");
    }
    const std::string text(sql);
    PgResult res(PQexec(conn_.get(), text.c_str()));
    return Check(std::move(res), text, lines_before, where);
  }

  base::Result<PgResult> ExecParams(const std::string& sql, const std::vector<std::string>& args) {
    std::vector<const char*> values;
    for (const auto& a : args)
      values.push_back(a.c_str());
    PgResult res(PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr,
                              values.data(), nullptr, nullptr, 0));
    return Check(std::move(res), sql, 0, nullptr);
  }

  base::Result<PgResult> Check(PgResult res, std::string_view sql, int lines_before,
                               std::optional<SqlPosition>* where) {
    const ExecStatusType st = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_COPY_OUT ||
        st == PGRES_COPY_IN) {
      return res;
    }
    if (where != nullptr) {
      const char* pos = res ? PQresultErrorField(res.get(), PG_DIAG_STATEMENT_POSITION) : nullptr;
      *where = pos ? PostgresErrorPosition(sql, std::atoi(pos), lines_before) : std::nullopt;
    }
    return Error(res.get());
  }

  base::Status Error(const PGresult* res) const {
    return PostgresError(conn_.get(), res, conninfo_, "", "the PostgreSQL warehouse: ");
  }

  // Streams `file` into `COPY table FROM STDIN` and returns the rows loaded.
  base::Result<std::int64_t> CopyIn(const std::string& table, const std::filesystem::path& file) {
    SLUICE_ASSIGN_OR_RETURN(
        PgResult start,
        Exec("COPY " + table + " FROM STDIN WITH (FORMAT csv, NULL E'\\\\N')", 0, nullptr));
    std::unique_ptr<std::FILE, FileCloser> in(std::fopen(file.c_str(), "rb"));
    if (!in) return base::IoError("cannot read " + file.string() + ": " + std::strerror(errno));
    std::vector<char> buf(kCopyChunkBytes);
    std::size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), in.get())) > 0) {
      if (PQputCopyData(conn_.get(), buf.data(), static_cast<int>(n)) != 1) return Error(nullptr);
    }
    if (PQputCopyEnd(conn_.get(), nullptr) != 1) return Error(nullptr);
    PgResult done(PQgetResult(conn_.get()));
    SLUICE_ASSIGN_OR_RETURN(done, Check(std::move(done), "", 0, nullptr));
    while (PgResult extra{PQgetResult(conn_.get())}) {
    }
    return static_cast<std::int64_t>(std::strtoll(PQcmdTuples(done.get()), nullptr, 10));
  }

  // Runs a `COPY ... TO STDOUT` into `file`, one row in memory at a time; returns the rows.
  base::Result<std::int64_t> CopyOut(const std::string& copy_sql,
                                     const std::filesystem::path& file) {
    std::unique_ptr<std::FILE, FileCloser> out(std::fopen(file.c_str(), "wb"));
    if (!out) return base::IoError("cannot write " + file.string() + ": " + std::strerror(errno));
    SLUICE_ASSIGN_OR_RETURN(PgResult start, Exec(copy_sql, 0, nullptr));
    while (true) {
      char* buf = nullptr;
      const int n = PQgetCopyData(conn_.get(), &buf, /*async=*/0);
      if (n > 0) {
        const std::size_t written = std::fwrite(buf, 1, static_cast<std::size_t>(n), out.get());
        PQfreemem(buf);
        if (written != static_cast<std::size_t>(n)) {
          return base::IoError("cannot write " + file.string() + ": " + std::strerror(errno));
        }
        continue;
      }
      if (n == -2) return Error(nullptr);
      break;
    }
    PgResult done(PQgetResult(conn_.get()));
    SLUICE_ASSIGN_OR_RETURN(done, Check(std::move(done), "", 0, nullptr));
    while (PgResult extra{PQgetResult(conn_.get())}) {
    }
    if (std::fclose(out.release()) != 0) {
      return base::IoError("cannot write " + file.string() + ": " + std::strerror(errno));
    }
    return static_cast<std::int64_t>(std::strtoll(PQcmdTuples(done.get()), nullptr, 10));
  }

  Conn conn_;
  std::string conninfo_;  // secret: used only to scrub messages
  config::ConnectionSpec spec_;
  std::string schema_;
};

}  // namespace

base::Result<std::unique_ptr<Warehouse>> OpenPostgresWarehouse(
    const config::ConnectionSpec& connection, const std::string& schema) {
  SLUICE_ASSIGN_OR_RETURN(auto w,
                          PostgresWarehouse::Connect(connection, schema, /*create_schema=*/true));
  return std::unique_ptr<Warehouse>(std::move(w));
}

}  // namespace sluice::warehouse
