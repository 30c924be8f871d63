// serving_log_bench: what logging one served request costs, apart from the HTTP path and the
// machine's other load: the request thread's Submit (rows rendered into its shard buffer, the
// values copied from a rendered response) and the writer's CPU per row (collecting, Parquet,
// publishing to the lake), for a request of 1 entity x 10 features like bench/serve/log.sh's.
//
//   serving_log_bench [REQUESTS] [DIR]      (default 500000 requests, a temporary folder)
//
// First 300,000 requests warm it up, unmeasured (see the warm-up below). Every flush_rows
// requests the bench waits for the writer's flush, so nothing is dropped (a
// faster loop than the writer would measure drops, which cost nearly nothing). CPU times come from
// getrusage: RUSAGE_THREAD for the submitting thread, the process's total
// minus it for the writer (the only other busy thread).
#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
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

// `n` as exactly `width` decimal digits at `out` (the bench's per-request change of a response).
void WriteDigits(char* out, int width, std::uint64_t n) {
  for (int d = width - 1; d >= 0; --d, n /= 10)
    out[d] = static_cast<char>('0' + n % 10);
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

  // A few responses of the serve bench's 10 features (counts and doubles), rendered once as a
  // server would; each request takes one at random (in cache, as a server's just-rendered
  // response is) and first writes a new number into its last value and a random account into
  // its entity, in place: every logged row differs, as with bench/serve/log.sh's random accounts
  // (constant entities or values would make the Parquet writer's dictionaries unrealistically
  // cheap).
  constexpr std::size_t kBodies = 64;
  const char* names[] = {"count_1h",       "count_24h",     "count_7d",       "amount_sum_1h",
                         "amount_sum_24h", "amount_sum_7d", "amount_mean_7d", "amount_max_7d",
                         "amount_min_7d",  "amount_last"};
  std::vector<serve::ViewResult> results(1);
  results[0].view = "acct";
  std::vector<std::string> entity_json = {"{\"account_id\":100000}"};
  const std::size_t entity_digits = entity_json[0].find('1');
  std::vector<std::string> bodies(kBodies);
  std::vector<std::vector<serve::FeatureSpans>> spans(kBodies);
  for (std::size_t b = 0; b < kBodies; ++b) {
    serve::FeatureRequest request;
    request.entity_json = entity_json;
    std::vector<engine::OnlineFeature> features;
    for (int f = 0; f < 10; ++f) {
      engine::OnlineFeature feature(f < 3 ? types::LogicalType::kInt64
                                          : types::LogicalType::kDouble);
      feature.name = names[f];
      feature.status = engine::FeatureStatus::kPresent;
      if (f < 3) {
        feature.value.AppendInt64(static_cast<std::int64_t>(b % 7) + f);
      } else if (f < 9) {
        feature.value.AppendDouble(static_cast<double>(b) * 1.37 + 12.5 * f);
      } else {
        feature.value.AppendDouble(10000000.5);  // 8 digits rewritten per request
      }
      features.push_back(std::move(feature));
    }
    results[0].entities.assign(1, std::move(features));
    bodies[b] = serve::RenderFeatureResponse(request, 0, results, &spans[b]);
  }
  // Lake version ids and definition hashes are 64 hex characters.
  const std::string source_version(64, 'a');
  const std::string definition(64, 'b');
  // Only the feature count and statuses are read from these: the values come from the body.
  const std::vector<serve::ServedLookup> lookups = {
      {"acct", source_version, definition, &results[0].entities}};

  std::uint64_t seed = 6;
  // Submits requests [from, to), waiting for the writer every flush_rows of them.
  auto submit = [&](long from, long to) -> bool {
    for (long i = from; i < to; ++i) {
      seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
      const std::size_t b = (seed >> 33) % kBodies;
      WriteDigits(&entity_json[0][entity_digits], 6, (seed >> 20) % 1000000);
      WriteDigits(&bodies[b][spans[b][9].value.offset], 8,
                  10000000 + static_cast<std::uint64_t>(i) % 89999999);
      const serve::RenderedValues values{bodies[b], &spans[b]};
      (*log)->Submit(i, i, entity_json, lookups, &values);
      // A writer that keeps up, as the HTTP path's pace allows it to: nothing is dropped.
      if ((i + 1) % spec.flush_rows == 0) {
        const base::Status flushed = (*log)->Flush();
        if (!flushed.ok()) {
          std::fprintf(stderr, "%s\n", flushed.ToString().c_str());
          return false;
        }
      }
    }
    return true;
  };
  // Warm-up, not measured: the first parts' buffers are new memory, which the request thread
  // faults in page by page (that was about half of Submit's CPU in a run of 500,000 requests); a
  // serving process reuses its buffers. Three parts' worth lets every buffer go round once.
  const long warm_up = 3 * spec.flush_rows;
  if (!submit(0, warm_up)) return 1;
  const base::Status warmed = (*log)->Flush();
  if (!warmed.ok()) {
    std::fprintf(stderr, "%s\n", warmed.ToString().c_str());
    return 1;
  }
  const std::uint64_t rows_before = (*log)->Counts().rows;
  const double process_before = CpuSeconds(RUSAGE_SELF);
  const double thread_before = CpuSeconds(RUSAGE_THREAD);
  const auto wall_before = std::chrono::steady_clock::now();
  if (!submit(warm_up, warm_up + requests)) return 1;
  const double submit_cpu = CpuSeconds(RUSAGE_THREAD) - thread_before;
  const base::Status closed = (*log)->Close();
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_before).count();
  const double writer_cpu = CpuSeconds(RUSAGE_SELF) - process_before - submit_cpu;
  const serve::ServingLogCounts c = (*log)->Counts();
  std::uintmax_t bytes = 0;  // the lake's objects: the Parquet parts and the manifests
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir / "lake")) {
    if (entry.is_regular_file()) bytes += entry.file_size();
  }
  std::filesystem::remove_all(dir / "lake");
  if (argc <= 2) std::filesystem::remove_all(dir);
  if (!closed.ok()) {
    std::fprintf(stderr, "%s\n", closed.ToString().c_str());
    return 1;
  }
  const double rows = static_cast<double>(c.rows - rows_before);
  std::printf(
      "| requests | rows published | dropped | Submit per request (request thread) | writer CPU "
      "per row | lake bytes per row | wall |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  std::printf("| %ld | %llu | %llu | %.2f us | %.2f us | %.0f | %.2f s |\n", requests,
              static_cast<unsigned long long>(c.rows - rows_before),
              static_cast<unsigned long long>(c.dropped),
              submit_cpu * 1e6 / static_cast<double>(requests),
              rows > 0 ? writer_cpu * 1e6 / rows : 0.0,
              c.rows > 0 ? static_cast<double>(bytes) / static_cast<double>(c.rows) : 0.0, wall);
  return 0;
}
