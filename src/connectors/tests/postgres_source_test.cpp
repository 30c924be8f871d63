#include "connectors/postgres_source.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "connectors/schema_contract.h"
#include "warehouse/duckdb_database.h"

// Runs against a real PostgreSQL server: ctest starts one with tests/pg/pg_server.sh (fixture
// "pg") and points SLUICE_PG_ENV at the env file it writes. Without a server every test fails
// (never skips), so a broken set-up cannot pass unnoticed.
namespace sluice::connectors {
namespace {
namespace fs = std::filesystem;
using types::Field;
using types::LogicalType;

constexpr const char* kPasswordVar = "SLUICE_TEST_PG_PASSWORD";

// Reads `export NAME=value` lines into the environment; returns why not, or "".
std::string LoadEnvFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return "cannot read " + path +
           " (start a server with tests/pg/pg_server.sh start DIR; ctest does it through the "
           "pg fixture)";
  }
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("export ", 0) == 0) line = line.substr(7);
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    setenv(line.substr(0, eq).c_str(), line.substr(eq + 1).c_str(), 1);
  }
  return "";
}

// The server from the environment, checked once for the whole binary.
struct Server {
  config::ConnectionSpec connection;
  std::string error;  // why the server cannot be used, or ""
};

const Server& TestServer() {
  static const Server server = [] {
    Server s;
    if (const char* env = std::getenv("SLUICE_PG_ENV")) s.error = LoadEnvFile(env);
    if (!s.error.empty()) return s;
    const char* host = std::getenv("PGHOST");
    const char* port = std::getenv("PGPORT");
    if (!host || !port) {
      s.error =
          "no PostgreSQL server: set SLUICE_PG_ENV to the env file of "
          "tests/pg/pg_server.sh, or PGHOST/PGPORT/PGUSER/PGDATABASE/PGPASSWORD";
      return s;
    }
    s.connection.host = host;
    s.connection.port = std::atoi(port);
    if (const char* db = std::getenv("PGDATABASE")) s.connection.database = db;
    if (const char* user = std::getenv("PGUSER")) s.connection.user = user;
    if (const char* pw = std::getenv("PGPASSWORD")) {
      setenv(kPasswordVar, pw, 1);
      s.connection.password_env = kPasswordVar;
    }
    auto st = ExecutePostgres(s.connection, "SELECT 1");
    if (!st.ok()) s.error = "the test server is not usable: " + st.ToString();
    return s;
  }();
  return server;
}

class PostgresSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(TestServer().error, "");
    dir_ = fs::temp_directory_path() /
           (std::string("sluice_pg_") + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  const config::ConnectionSpec& Conn() const { return TestServer().connection; }
  void Sql(const std::string& sql) {
    auto st = ExecutePostgres(Conn(), sql);
    ASSERT_TRUE(st.ok()) << st.ToString();
  }
  config::SourceSpec Table(const std::string& table, std::vector<Field> columns) const {
    config::SourceSpec s;
    s.name = table;
    s.type = config::SourceType::kPostgres;
    s.table = table;
    s.connection = Conn();
    s.columns = std::move(columns);
    return s;
  }
  // Extracts to a file and returns its bytes.
  std::string Extract(const config::SourceSpec& s, const std::optional<std::string>& after,
                      PostgresExtract* info = nullptr, const std::string& file = "out.csv") {
    auto r = ExtractPostgres(s, after, dir_ / file);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok()) return "";
    if (info) *info = *r;
    std::ifstream in(dir_ / file, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // Rows covering each rendering case: NULL, "" and "\N" strings, a quoted multi-line string,
  // floats that need every digit, a float4, timestamps with offsets and infinity, a leap day.
  config::SourceSpec RenderSource() {
    Sql(R"(DROP TABLE IF EXISTS render;
         CREATE TABLE render (id int8, name text, flag bool, amount float8, small float4,
           ts timestamptz, local_ts timestamp, day date, n numeric(12,3), ignored text);
         INSERT INTO render VALUES
           (1, NULL, true, 0.1, 0.1, '2024-03-01 12:34:56.789012+02', '2024-03-01 12:34:56',
            '2024-03-01', 1.5, 'x'),
           (2, '', false, 1e300, NULL, 'infinity', NULL, '1999-12-31', NULL, 'x'),
           (3, '\N', NULL, -2.5e-8, 3, '1970-01-01 00:00:00+00', '2000-02-29 23:59:59.999999',
            NULL, 123456789.125, 'x'),
           (10, E'two\nlines, "quoted"', true, 3.141592653589793, -0.5,
            '2024-12-31 23:59:59.5-05', '1969-07-20 20:17:40', '2024-02-29', -0.001, 'x'))");
    return Table("render", {{"id", LogicalType::kInt64, false},
                            {"name", LogicalType::kString, true},
                            {"flag", LogicalType::kBool, true},
                            {"amount", LogicalType::kDouble, true},
                            {"small", LogicalType::kDouble, true},
                            {"ts", LogicalType::kTimestamp, true},
                            {"local_ts", LogicalType::kTimestamp, true},
                            {"day", LogicalType::kDate, true},
                            {"n", LogicalType::kDouble, true}});
  }

  fs::path dir_;
};

// A port on 127.0.0.1 with nothing listening: bound by the kernel's choice, then released.
int ClosedPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return 1;  // privileged and unused in test environments
  }
  close(fd);
  return ntohs(addr.sin_port);
}

// --- connection strings (no server needed, but run with the rest) ------------------------------

TEST(ConnectionStringTest, FromPartsQuotesValuesAndReadsThePasswordFromTheEnvironment) {
  setenv("SLUICE_TEST_PW_PARTS", "s3cr'et\\x", 1);
  config::ConnectionSpec c;
  c.host = "db.example";
  c.port = 6543;
  c.database = "my db";
  c.user = "bob";
  c.password_env = "SLUICE_TEST_PW_PARTS";
  auto s = ConnectionString(c);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(*s,
            "host='db.example' port='6543' dbname='my db' user='bob' password='s3cr\\'et\\\\x'");
  const std::string d = DescribeConnection(c);
  EXPECT_EQ(d, "db.example:6543/my db as bob");
  EXPECT_EQ(d.find("s3cr"), std::string::npos);
}

TEST(ConnectionStringTest, FromDsnAndDsnEnv) {
  config::ConnectionSpec literal;
  literal.dsn = "host=h1 port=5433 dbname=d1 user=u1 password=hunter2";
  auto s = ConnectionString(literal);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, *literal.dsn);
  EXPECT_EQ(DescribeConnection(literal), "dsn h1:5433/d1 as u1");

  setenv("SLUICE_TEST_DSN", "postgresql://u2:hunter3@h2:5434/d2", 1);
  config::ConnectionSpec env;
  env.dsn_env = "SLUICE_TEST_DSN";
  s = ConnectionString(env);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, "postgresql://u2:hunter3@h2:5434/d2");
  const std::string d = DescribeConnection(env);
  EXPECT_EQ(d, "dsn from $SLUICE_TEST_DSN (h2:5434/d2 as u2)");
  EXPECT_EQ(d.find("hunter3"), std::string::npos);
}

TEST(ConnectionStringTest, MissingEnvironmentVariablesAreNamedNeverValued) {
  unsetenv("SLUICE_TEST_NO_DSN");
  config::ConnectionSpec dsn_env;
  dsn_env.dsn_env = "SLUICE_TEST_NO_DSN";
  auto s = ConnectionString(dsn_env);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), base::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("SLUICE_TEST_NO_DSN"), std::string::npos);
  EXPECT_EQ(DescribeConnection(dsn_env), "dsn from $SLUICE_TEST_NO_DSN");

  unsetenv("SLUICE_TEST_NO_PW");
  config::ConnectionSpec parts;
  parts.host = "localhost";
  parts.database = "d";
  parts.password_env = "SLUICE_TEST_NO_PW";
  s = ConnectionString(parts);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), base::StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("SLUICE_TEST_NO_PW"), std::string::npos);
  EXPECT_FALSE(s.status().retryable());
}

TEST(ConnectionStringTest, UnparseableDsnDoesNotEchoIt) {
  config::ConnectionSpec c;
  c.dsn = "host=h password=hunter2 trailing-garbage";
  auto s = ConnectionString(c);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), base::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.status().ToString().find("hunter2"), std::string::npos);
  EXPECT_EQ(DescribeConnection(c).find("hunter2"), std::string::npos);
}

// --- against the server --------------------------------------------------------------------

TEST_F(PostgresSourceTest, ConnectsWithAPasswordThatNeedsQuoting) {
  const std::string password = "it's a \\ \"secret\" p=w";
  Sql("DROP ROLE IF EXISTS sluice_quoted; CREATE ROLE sluice_quoted LOGIN PASSWORD "
      "'it''s a \\ \"secret\" p=w'");
  setenv("SLUICE_TEST_QUOTED_PW", password.c_str(), 1);
  config::SourceSpec s = Table("unused", {});
  s.table.reset();
  s.query = "SELECT current_user AS who";
  s.connection.user = "sluice_quoted";
  s.connection.password_env = "SLUICE_TEST_QUOTED_PW";
  auto cols = DescribePostgres(s);
  ASSERT_TRUE(cols.ok()) << cols.status().ToString();
  ASSERT_EQ(cols->size(), 1u);
  EXPECT_EQ((*cols)[0].name, "who");
  EXPECT_EQ((*cols)[0].duckdb_type, "VARCHAR");
}

TEST_F(PostgresSourceTest, WrongPasswordIsUnavailableAndNotEchoed) {
  setenv("SLUICE_TEST_WRONG_PW", "definitely-wrong-pw-123", 1);
  config::SourceSpec s = Table("anything", {{"x", LogicalType::kInt64, true}});
  s.connection.password_env = "SLUICE_TEST_WRONG_PW";
  auto r = DescribePostgres(s);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), base::StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("password authentication failed"), std::string::npos)
      << r.status().ToString();
  EXPECT_NE(r.status().message().find(DescribeConnection(s.connection)), std::string::npos);
  EXPECT_EQ(r.status().ToString().find("definitely-wrong-pw-123"), std::string::npos);
}

TEST_F(PostgresSourceTest, DescribesEveryTypeOfATableAndAQuery) {
  Sql(R"(DROP TABLE IF EXISTS all_types;
         CREATE TABLE all_types (c_int2 int2, c_int4 int4, c_int8 int8, c_float4 float4,
           c_float8 float8, c_numeric numeric, c_numeric_ps numeric(10,2), c_text text,
           c_varchar varchar(10), c_bpchar char(3), c_name name, c_uuid uuid, c_bool bool,
           c_date date, c_ts timestamp, c_tstz timestamptz, c_jsonb jsonb, c_arr int4[]))");
  auto cols = DescribePostgres(Table("all_types", {}));
  ASSERT_TRUE(cols.ok()) << cols.status().ToString();
  const std::vector<std::pair<std::string, std::string>> want = {
      {"c_int2", "SMALLINT"},
      {"c_int4", "INTEGER"},
      {"c_int8", "BIGINT"},
      {"c_float4", "FLOAT"},
      {"c_float8", "DOUBLE"},
      {"c_numeric", "DECIMAL(38,10)"},
      {"c_numeric_ps", "DECIMAL(10,2)"},
      {"c_text", "VARCHAR"},
      {"c_varchar", "VARCHAR"},
      {"c_bpchar", "VARCHAR"},
      {"c_name", "VARCHAR"},
      {"c_uuid", "VARCHAR"},
      {"c_bool", "BOOLEAN"},
      {"c_date", "DATE"},
      {"c_ts", "TIMESTAMP"},
      {"c_tstz", "TIMESTAMP WITH TIME ZONE"},
      {"c_jsonb", "JSONB"},
      {"c_arr", "INTEGER[]"},
  };
  ASSERT_EQ(cols->size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ((*cols)[i].name, want[i].first);
    EXPECT_EQ((*cols)[i].duckdb_type, want[i].second) << want[i].first;
  }

  // What the contract makes of it: compatible types pass, jsonb declared as string is a retype.
  auto declared = types::Schema::Make({{"c_int4", LogicalType::kInt64, true},
                                       {"c_numeric", LogicalType::kDouble, true},
                                       {"c_tstz", LogicalType::kTimestamp, true},
                                       {"c_jsonb", LogicalType::kString, true}});
  ASSERT_TRUE(declared.ok());
  auto contract = CheckContract(*declared, *cols, ExtraColumnPolicy::kKeep, "all_types");
  ASSERT_EQ(contract.errors.size(), 1u);
  EXPECT_NE(contract.errors[0].find("'c_jsonb' was retyped"), std::string::npos);

  config::SourceSpec q = Table("unused", {});
  q.table.reset();
  q.query = "SELECT c_int4 + 1 AS next, c_text || 'x' AS t, now() AS at FROM all_types;\n";
  cols = DescribePostgres(q);
  ASSERT_TRUE(cols.ok()) << cols.status().ToString();
  ASSERT_EQ(cols->size(), 3u);
  EXPECT_EQ((*cols)[0].name, "next");
  EXPECT_EQ((*cols)[0].duckdb_type, "INTEGER");
  EXPECT_EQ((*cols)[1].duckdb_type, "VARCHAR");
  EXPECT_EQ((*cols)[2].duckdb_type, "TIMESTAMP WITH TIME ZONE");
}

TEST_F(PostgresSourceTest, FullExtractionRendersValuesAndIsByteForByteRepeatable) {
  const auto source = RenderSource();
  PostgresExtract info;
  const std::string first = Extract(source, std::nullopt, &info, "a.csv");
  // Without a cursor, rows are ordered by their text ("10" sorts before "2").
  EXPECT_EQ(first,
            "id,name,flag,amount,small,ts,local_ts,day,n\n"
            "1,\\N,true,0.1,0.10000000149011612,2024-03-01T10:34:56.789012Z,"
            "2024-03-01T12:34:56.000000Z,2024-03-01,1.500\n"
            "10,\"two\nlines, \"\"quoted\"\"\",true,3.141592653589793,-0.5,"
            "2025-01-01T04:59:59.500000Z,1969-07-20T20:17:40.000000Z,2024-02-29,-0.001\n"
            "2,\"\",false,1e+300,\\N,infinity,\\N,1999-12-31,\\N\n"
            "3,\"\\N\",\\N,-2.5e-08,3,1970-01-01T00:00:00.000000Z,2000-02-29T23:59:59.999999Z,"
            "\\N,123456789.125\n");
  EXPECT_EQ(info.rows, 4);
  EXPECT_FALSE(info.max_cursor.has_value());  // no cursor declared

  const std::string second = Extract(source, std::nullopt, nullptr, "b.csv");
  EXPECT_EQ(first, second);

  // Identical rows in a different physical order give the same bytes.
  Sql("CREATE TABLE render_copy AS SELECT * FROM render ORDER BY id DESC");
  auto copy = source;
  copy.table = "render_copy";
  EXPECT_EQ(Extract(copy, std::nullopt, nullptr, "c.csv"), first);
  Sql("DROP TABLE render_copy");
}

// The point of the rendering: DuckDB's CSV reader, given the declared types, gets the values back.
TEST_F(PostgresSourceTest, DuckDbReadsTheCsvBackWithTheDeclaredTypes) {
  Extract(RenderSource(), std::nullopt, nullptr, "render.csv");
  auto db = warehouse::DuckDb::Open(":memory:");
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  const std::string csv = (dir_ / "render.csv").string();
  auto st = db->Execute(
      "CREATE TABLE t AS SELECT * FROM read_csv('" + csv +
      "', header=true, quote='\"', escape='\"', nullstr='\\N', allow_quoted_nulls=false, "
      "auto_detect=false, "
      "columns={'id': 'BIGINT', 'name': 'VARCHAR', 'flag': 'BOOLEAN', 'amount': 'DOUBLE', "
      "'small': 'DOUBLE', 'ts': 'TIMESTAMP', 'local_ts': 'TIMESTAMP', 'day': 'DATE', "
      "'n': 'DOUBLE'})");
  ASSERT_TRUE(st.ok()) << st.ToString();
  auto check = [&](const std::string& where) {
    auto n = db->QueryScalarInt64("SELECT count(*) FROM t WHERE " + where);
    ASSERT_TRUE(n.ok()) << n.status().ToString();
    EXPECT_EQ(*n, 1) << where;
  };
  check(
      "id = 1 AND name IS NULL AND flag AND amount = 0.1 AND small = 0.1::FLOAT::DOUBLE "
      "AND ts = TIMESTAMP '2024-03-01 10:34:56.789012' "
      "AND local_ts = TIMESTAMP '2024-03-01 12:34:56' AND day = DATE '2024-03-01' AND n = 1.5");
  check(
      "id = 2 AND name = '' AND NOT flag AND amount = 1e300 AND small IS NULL "
      "AND ts = 'infinity'::TIMESTAMP AND local_ts IS NULL AND n IS NULL");
  check(
      "id = 3 AND name = '\\N' AND flag IS NULL AND amount = -2.5e-8 AND day IS NULL "
      "AND local_ts = TIMESTAMP '2000-02-29 23:59:59.999999' AND n = 123456789.125");
  check(
      "id = 10 AND name = 'two' || chr(10) || 'lines, \"quoted\"' AND amount = pi() "
      "AND ts = TIMESTAMP '2025-01-01 04:59:59.5' AND day = DATE '2024-02-29'");
}

TEST_F(PostgresSourceTest, IncrementalExtractionReadsOnlyRowsAfterTheCursor) {
  Sql(R"(DROP TABLE IF EXISTS events;
         CREATE TABLE events (id int8, ts timestamptz, v text);
         INSERT INTO events VALUES
           (1, '2024-01-01 00:00:00+00', 'a'),
           (2, '2024-01-01 01:00:00.000001+00', 'b'),
           (3, '2024-01-01 04:30:00.25+02', 'c'))");
  auto source = Table("events", {{"id", LogicalType::kInt64, false},
                                 {"ts", LogicalType::kTimestamp, false},
                                 {"v", LogicalType::kString, true}});
  source.cursor = "ts";

  PostgresExtract info;
  EXPECT_EQ(Extract(source, std::nullopt, &info),
            "id,ts,v\n"
            "1,2024-01-01T00:00:00.000000Z,\"a\"\n"
            "2,2024-01-01T01:00:00.000001Z,\"b\"\n"
            "3,2024-01-01T02:30:00.250000Z,\"c\"\n");
  EXPECT_EQ(info.rows, 3);
  ASSERT_EQ(info.max_cursor, "2024-01-01T02:30:00.250000Z");
  const std::string max1 = *info.max_cursor;

  // Row 4 arrives late with the cursor already published: by contract it is never read (rows
  // must arrive with strictly greater cursors). Row 5 is 1 us later; row 6 ties with row 7.
  Sql(R"(INSERT INTO events VALUES
           (4, '2024-01-01 02:30:00.25+00', 'late'),
           (7, '2024-01-02 00:00:00+00', 'y'),
           (5, '2024-01-01 02:30:00.250001+00', NULL),
           (6, '2024-01-02 00:00:00+00', 'x'))");
  EXPECT_EQ(Extract(source, max1, &info),
            "id,ts,v\n"
            "5,2024-01-01T02:30:00.250001Z,\\N\n"
            "6,2024-01-02T00:00:00.000000Z,\"x\"\n"
            "7,2024-01-02T00:00:00.000000Z,\"y\"\n");
  EXPECT_EQ(info.rows, 3);
  ASSERT_EQ(info.max_cursor, "2024-01-02T00:00:00.000000Z");

  // Nothing new: a header alone, and no cursor to publish.
  EXPECT_EQ(Extract(source, info.max_cursor, &info), "id,ts,v\n");
  EXPECT_EQ(info.rows, 0);
  EXPECT_FALSE(info.max_cursor.has_value());
}

TEST_F(PostgresSourceTest, QuerySourceWithAnIntegerCursor) {
  Sql(R"(DROP TABLE IF EXISTS numbers;
         CREATE TABLE numbers (id int4, label text);
         INSERT INTO numbers SELECT g, 'n' || g FROM generate_series(1, 12) g)");
  config::SourceSpec s =
      Table("unused", {{"id", LogicalType::kInt64, false}, {"label", LogicalType::kString, true}});
  s.table.reset();
  s.query = "SELECT label, id FROM numbers WHERE id % 3 <> 0 -- not the multiples of three\n;";
  s.cursor = "id";
  PostgresExtract info;
  // Ordered numerically by the cursor (9 < 10), not as text.
  EXPECT_EQ(Extract(s, "7", &info), "id,label\n8,\"n8\"\n10,\"n10\"\n11,\"n11\"\n");
  EXPECT_EQ(info.max_cursor, "11");
}

TEST_F(PostgresSourceTest, ACursorThatIsNotAValueOfTheColumnTypeIsInvalid) {
  Sql("DROP TABLE IF EXISTS cur; CREATE TABLE cur (ts timestamptz)");
  auto s = Table("cur", {{"ts", LogicalType::kTimestamp, true}});
  s.cursor = "ts";
  auto r = ExtractPostgres(s, std::string("not a time'; DROP TABLE cur; --"), dir_ / "x.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), base::StatusCode::kInvalidArgument) << r.status().ToString();
  EXPECT_TRUE(ExecutePostgres(Conn(), "SELECT * FROM cur").ok());
}

TEST_F(PostgresSourceTest, UnknownTableOrColumnIsInvalidArgument) {
  auto r = ExtractPostgres(Table("no_such_table", {{"x", LogicalType::kInt64, true}}), std::nullopt,
                           dir_ / "x.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), base::StatusCode::kInvalidArgument);
  EXPECT_FALSE(r.status().retryable());
  EXPECT_NE(r.status().message().find("relation \"no_such_table\" does not exist"),
            std::string::npos)
      << r.status().ToString();

  auto d = DescribePostgres(Table("no_such_table", {}));
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), base::StatusCode::kInvalidArgument);

  config::SourceSpec q = Table("unused", {{"x", LogicalType::kInt64, true}});
  q.table.reset();
  q.query = "SELECT no_such_column AS x";
  d = DescribePostgres(q);
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.status().code(), base::StatusCode::kInvalidArgument);
  EXPECT_NE(d.status().message().find("no_such_column"), std::string::npos);
}

TEST_F(PostgresSourceTest, ATableMustBeATableName) {
  auto r = DescribePostgres(Table("users; DROP TABLE users", {}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), base::StatusCode::kInvalidArgument);
  Sql(R"(DROP TABLE IF EXISTS "Mixed Case"; CREATE TABLE "Mixed Case" (a int8))");
  EXPECT_TRUE(DescribePostgres(Table(R"(public."Mixed Case")", {})).ok());
}

TEST_F(PostgresSourceTest, UnreachableServerIsUnavailableAndRetryable) {
  auto s = Table("events", {{"id", LogicalType::kInt64, true}});
  s.connection.host = "127.0.0.1";
  s.connection.port = ClosedPort();
  auto r = ExtractPostgres(s, std::nullopt, dir_ / "x.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), base::StatusCode::kUnavailable) << r.status().ToString();
  EXPECT_TRUE(r.status().retryable());
  EXPECT_NE(r.status().message().find("127.0.0.1:" + std::to_string(s.connection.port)),
            std::string::npos)
      << r.status().ToString();
  const char* pw = std::getenv(kPasswordVar);
  if (pw != nullptr && *pw != '\0') {
    EXPECT_EQ(r.status().ToString().find(pw), std::string::npos);
  }
}

}  // namespace
}  // namespace sluice::connectors
