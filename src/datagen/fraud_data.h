#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <vector>

#include "base/result.h"

namespace sluice::datagen {

// Deterministic synthetic card-fraud data for examples/fraud, tests and benchmarks. The data
// model, the planted fraud patterns and the out-of-order fraction are documented in
// src/datagen/README.md; the constants below are the parts callers may rely on.

inline constexpr std::int64_t kMinTransactions = 1'000;
inline constexpr std::int64_t kMaxTransactions = 100'000'000;
// Event time starts here (2024-01-01T00:00:00Z) and spans about kSpanDays at any size.
inline constexpr std::int64_t kStartMicros = 1'704'067'200'000'000;
inline constexpr std::int64_t kSpanDays = 90;
// In each block of kLateBlockRows consecutive rows exactly one row is late (except in the first
// ten minutes of event time): its ts lies kMinLateSeconds..kMaxLateSeconds before the largest ts
// of the rows above it. Every other row's ts is >= every earlier row's ts.
inline constexpr std::int64_t kLateBlockRows = 500;
inline constexpr std::int64_t kMinLateSeconds = 60;
inline constexpr std::int64_t kMaxLateSeconds = 600;

struct FraudDataOptions {
  std::int64_t transactions = 10'000;  // kMinTransactions..kMaxTransactions
  std::uint64_t seed = 42;
  std::filesystem::path out_dir;  // created if missing; existing files of the same name replaced
  // Which transaction files to write. users.csv and labels.csv are always written.
  bool csv = true;
  bool jsonl = true;
  bool parquet = true;
};

struct GeneratedFile {
  std::filesystem::path path;
  std::int64_t rows = 0;
  std::uint64_t bytes = 0;
};

struct FraudDataSummary {
  std::vector<GeneratedFile> files;  // users.csv, transactions.{csv,jsonl,parquet}, labels.csv
  std::int64_t users = 0;
  std::int64_t merchants = 0;  // distinct merchant ids that can appear, ATMs included
  std::int64_t transactions = 0;
  std::int64_t fraud_transactions = 0;  // == the sum of the three pattern counts
  std::int64_t burst_fraud = 0;         // pattern 1: bursts of spending
  std::int64_t new_merchant_fraud = 0;  // pattern 2: merchants new to the user
  std::int64_t night_fraud = 0;         // pattern 3: night-time activity
  std::int64_t fraud_incidents = 0;     // compromised-card episodes with >= 1 emitted row
  std::int64_t late_transactions = 0;   // rows whose ts is below an earlier row's ts
  std::int64_t min_ts_micros = 0;
  std::int64_t max_ts_micros = 0;
};

// Called with (rows_done, rows_total) about every 64k transaction rows and once at the end of
// row generation; Parquet conversion (if requested) follows the final call.
using ProgressCallback = std::function<void(std::int64_t rows_done, std::int64_t rows_total)>;

// Writes the files into options.out_dir. Same options -> byte-identical files on any machine.
// Memory stays constant in the number of transactions apart from per-user state (users are
// transactions / 50). Files are written under a temporary name and renamed when complete, so a
// failed run never leaves a truncated file under a final name.
base::Result<FraudDataSummary> GenerateFraudData(const FraudDataOptions& options,
                                                 ProgressCallback progress = {});

}  // namespace sluice::datagen
