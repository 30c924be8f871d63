// serving_log_bench: what logging one served request costs, apart from the HTTP path and the
// machine's other load: the request thread's Submit (rows rendered into its shard buffer, the
// values copied from a rendered response) and the writer's CPU per row (collecting, Parquet,
// publishing to the lake), for a request of 1 entity x 10 features like bench/serve/log.sh's.
//
//   serving_log_bench [REQUESTS] [DIR]      (default 500000 requests, a temporary folder)
//
// Every flush_rows requests the bench waits for the writer's flush, so nothing is dropped (a
// faster loop than the writer would measure drops, which cost nearly nothing). CPU times come from
// getrusage: RUSAGE_THREAD for the submitting thread, the process's total
// minus it for the writer (the only other busy thread).
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "base/clock.h"
#include "serve/response.h"
#include "serve/serving_log.h"

namespace {

double Seconds(const timeval& t) {
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
}
double CpuSeconds(int who) {
  rusage u{};
  getrusage(who, &u);
  return Seconds(u.ru_utime) + Seconds(u.ru_stime);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sluice;
  const long requests = argc > 1 ? std::atol(argv[1]) : 500000;
  const std::filesystem::path dir = argc > 2
                                        ? std::filesystem::path(argv[2])
                                        : std::filesystem::temp_directory_path() /
                                              ("serving_log_bench_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir / "lake");
  lake::Lake lake(dir / "lake");
  if (!lake.Open().ok()) return 1;
  config::ServingLogSpec spec;
  spec.enabled = true;
  spec.queue = 200000;
  spec.flush_rows = 100000;
  spec.flush_interval = std::chrono::seconds(10);
  base::Clock& clock = base::SystemClock::Instance();
  auto log = serve::ServingLog::Open(lake.root(), spec, clock);
  if (!log.ok()) {
    std::fprintf(stderr, "%s\n", log.status().ToString().c_str());
    return 1;
  }

  // One entity, the serve bench's 10 features (counts and doubles), rendered once as a server
  // would; each Submit copies from it.
  serve::FeatureRequest request;
  request.entity_json = {"{\"account_id\":4711}"};
  serve::ViewResult result;
  result.view = "acct";
  std::vector<engine::OnlineFeature> features;
  const char* names[] = {"count_1h",       "count_24h",     "count_7d",       "amount_sum_1h",
                         "amount_sum_24h", "amount_sum_7d", "amount_mean_7d", "amount_max_7d",
                         "amount_min_7d",  "amount_last"};
  for (int f = 0; f < 10; ++f) {
    engine::OnlineFeature feature(f < 3 ? types::LogicalType::kInt64 : types::LogicalType::kDouble);
    feature.name = names[f];
    feature.status = engine::FeatureStatus::kPresent;
    if (f < 3) {
      feature.value.AppendInt64(f + 1);
    } else {
      feature.value.AppendDouble(123.456789 * f);
    }
    features.push_back(std::move(feature));
  }
  result.entities.push_back(std::move(features));
  std::vector<serve::ViewResult> results;
  results.push_back(std::move(result));
  std::vector<serve::FeatureSpans> spans;
  const std::string body = serve::RenderFeatureResponse(request, 0, results, &spans);
  const std::vector<serve::ServedLookup> lookups = {
      {"acct", std::string(64, 'a'), std::string(64, 'b'), &results[0].entities}};
  const serve::RenderedValues values{body, &spans};

  const double process_before = CpuSeconds(RUSAGE_SELF);
  const double thread_before = CpuSeconds(RUSAGE_THREAD);
  const auto wall_before = std::chrono::steady_clock::now();
  for (long i = 0; i < requests; ++i) {
    (*log)->Submit(i, i, request.entity_json, lookups, &values);
    // A writer that keeps up, as the HTTP path's pace allows it to: nothing is dropped.
    if ((i + 1) % spec.flush_rows == 0 && !(*log)->Flush().ok()) return 1;
  }
  const double submit_cpu = CpuSeconds(RUSAGE_THREAD) - thread_before;
  const base::Status closed = (*log)->Close();
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_before).count();
  const double writer_cpu = CpuSeconds(RUSAGE_SELF) - process_before - submit_cpu;
  const serve::ServingLogCounts c = (*log)->Counts();
  std::filesystem::remove_all(dir / "lake");
  if (argc <= 2) std::filesystem::remove_all(dir);
  if (!closed.ok()) {
    std::fprintf(stderr, "%s\n", closed.ToString().c_str());
    return 1;
  }
  const double rows = static_cast<double>(c.rows);
  std::printf(
      "| requests | rows published | dropped | Submit per request (request thread) | writer CPU "
      "per row | wall |\n");
  std::printf("|---|---|---|---|---|---|\n");
  std::printf("| %ld | %llu | %llu | %.2f us | %.2f us | %.2f s |\n", requests,
              static_cast<unsigned long long>(c.rows), static_cast<unsigned long long>(c.dropped),
              submit_cpu * 1e6 / static_cast<double>(requests),
              rows > 0 ? writer_cpu * 1e6 / rows : 0.0, wall);
  return 0;
}
