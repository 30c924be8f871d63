#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sluice::cli {

// Each command takes its parsed options and returns a process exit code (see exit_code.h).
// Flag parsing lives in main.cpp, the only file that sees CLI11.

struct InitOptions {
  std::string dir;
  bool force = false;  // write into a non-empty folder, replacing template files
};
int RunInit(const InitOptions& options);

struct CheckOptions {
  std::string project = ".";
};
int RunCheck(const CheckOptions& options);

struct DemoDataOptions {
  std::string project = ".";
  std::string out;  // default: <project>/data
  std::int64_t transactions = 100'000;
  std::uint64_t seed = 42;
  std::string formats = "csv,jsonl,parquet";
};
int RunDemoData(const DemoDataOptions& options);

struct IngestOptions {
  std::string project = ".";
  std::vector<std::string> sources;  // empty: every source of the project
  int threads = 0;                   // DuckDB threads; 0 = all cores
};
int RunIngest(const IngestOptions& options);

struct VersionsOptions {
  std::string project = ".";
  std::string dataset;  // empty: every dataset
};
int RunVersions(const VersionsOptions& options);

struct ShowOptions {
  std::string project = ".";
  std::string version;  // id or unique prefix
  int quarantine = 10;  // quarantined rows to print
};
int RunShow(const ShowOptions& options);

struct TrainingSetCommandOptions {
  std::string project = ".";
  std::string name;
  std::string out;     // default: <project>/output
  int threads = 0;     // 0 = all cores
  int partitions = 0;  // 0 = from the data size
  bool refit = false;
};
int RunTrainingSet(const TrainingSetCommandOptions& options);

struct ReproduceOptions {
  std::string project = ".";
  std::string version;
  int threads = 0;
};
int RunReproduce(const ReproduceOptions& options);

}  // namespace sluice::cli
