// duckdb_sql: runs the SQL statements given on the command line in a fresh in-memory DuckDB,
// through sluice's own adapter (the same library build and settings sluice ingests with), and
// nothing else. It is the "plain copy" side of the ingest benchmark: what DuckDB alone costs
// for the work sluice wraps with contracts, quarantine and versioning.
//
//   duckdb_sql [--threads N] SQL...
//
// Prints each statement's wall time on stderr; exits 1 on the first failing statement.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "warehouse/duckdb_database.h"

int main(int argc, char** argv) {
  sluice::warehouse::DuckDb::Options options;
  std::vector<std::string> statements;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--threads" && i + 1 < argc) {
      options.threads = std::atoi(argv[++i]);
    } else {
      statements.push_back(arg);
    }
  }
  if (statements.empty()) {
    std::fprintf(stderr, "usage: duckdb_sql [--threads N] SQL...\n");
    return 2;
  }
  auto db = sluice::warehouse::DuckDb::Open(":memory:", options);
  if (!db.ok()) {
    std::fprintf(stderr, "duckdb_sql: %s\n", db.status().ToString().c_str());
    return 1;
  }
  for (const auto& sql : statements) {
    const auto started = std::chrono::steady_clock::now();
    // A statement that returns one integer (a count) is printed, so the script can check rows.
    if (sql.rfind("SELECT count(", 0) == 0) {
      auto n = db->QueryScalarInt64(sql);
      if (!n.ok()) {
        std::fprintf(stderr, "duckdb_sql: %s\n", n.status().ToString().c_str());
        return 1;
      }
      std::printf("%lld\n", static_cast<long long>(*n));
    } else {
      const sluice::base::Status s = db->Execute(sql);
      if (!s.ok()) {
        std::fprintf(stderr, "duckdb_sql: %s\n", s.ToString().c_str());
        return 1;
      }
    }
    std::fprintf(stderr, "duckdb_sql: %.3fs  %.100s\n",
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(),
                 sql.c_str());
  }
  return 0;
}
