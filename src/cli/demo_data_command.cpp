#include <cstdio>
#include <filesystem>
#include <sstream>

#include "base/clock.h"
#include "cli/commands.h"
#include "cli/exit_code.h"
#include "cli/progress_meter.h"
#include "datagen/fraud_data.h"

namespace sluice::cli {

namespace fs = std::filesystem;

int RunDemoData(const DemoDataOptions& options) {
  datagen::FraudDataOptions gen;
  gen.transactions = options.transactions;
  gen.seed = options.seed;
  gen.out_dir = options.out.empty() ? fs::path(options.project) / "data" : fs::path(options.out);
  gen.csv = gen.jsonl = gen.parquet = false;
  std::stringstream formats(options.formats);
  for (std::string f; std::getline(formats, f, ',');) {
    if (f == "csv") {
      gen.csv = true;
    } else if (f == "jsonl") {
      gen.jsonl = true;
    } else if (f == "parquet") {
      gen.parquet = true;
    } else {
      return ReportFailure(base::InvalidArgument("--formats: unknown format '" + f +
                                                 "' (expected csv, jsonl or parquet)"));
    }
  }

  ProgressMeter meter("transactions", gen.transactions, base::SystemClock::Instance());
  const auto start = base::SystemClock::Instance().Now();
  auto summary =
      datagen::GenerateFraudData(gen, [&](std::int64_t done, std::int64_t) { meter.Update(done); });
  meter.Finish();
  if (!summary.ok()) return ReportFailure(summary.status());
  const double secs =
      std::chrono::duration<double>(base::SystemClock::Instance().Now() - start).count();

  std::printf("generated %lld transactions (%lld fraudulent) for %lld users in %.1fs (seed %llu)\n",
              static_cast<long long>(summary->transactions),
              static_cast<long long>(summary->fraud_transactions),
              static_cast<long long>(summary->users), secs,
              static_cast<unsigned long long>(gen.seed));
  for (const auto& file : summary->files) {
    std::printf("  %-60s %12lld rows %12s\n", file.path.c_str(), static_cast<long long>(file.rows),
                HumanBytes(file.bytes).c_str());
  }
  return kExitOk;
}

}  // namespace sluice::cli
