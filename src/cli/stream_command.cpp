// `sluice stream`: follows a Kafka source and keeps its streaming views online (the engine's
// StreamRuntime does the work; this file wires flags, signals and the status line).
#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__GLIBC__)
#include <malloc.h>
#include <sys/mman.h>
#include <unistd.h>
#endif

#include "base/clock.h"
#include "cli/commands.h"
#include "cli/exit_code.h"
#include "cli/progress_meter.h"
#include "cli/project_context.h"
#include "connectors/kafka_consumer.h"
#include "engine/stream_runtime.h"
#include "serve/backend.h"
#include "serve/catalog.h"
#include "serve/http_server.h"
#include "serve/metrics.h"
#include "store/online_store.h"

namespace sluice::cli {
namespace {

std::atomic<bool> g_stop{false};

void OnStreamStopSignal(int) {
  g_stop.store(true);
}

// The views to stream: those named, or every view over a Kafka source; all over one source.
base::Result<std::vector<const config::FeatureViewSpec*>> StreamingViews(
    const config::ProjectSpec& spec, const std::vector<std::string>& names) {
  std::vector<const config::FeatureViewSpec*> views;
  auto is_stream = [&](const config::FeatureViewSpec& v) {
    const config::SourceSpec* s = spec.FindSource(v.source);
    return s != nullptr && s->type == config::SourceType::kKafka;
  };
  if (names.empty()) {
    for (const auto& v : spec.feature_views) {
      if (is_stream(v)) views.push_back(&v);
    }
    if (views.empty()) {
      return base::InvalidArgument(
          "no streaming views: no feature view reads a kafka source (see docs/streaming.md)");
    }
  } else {
    for (const auto& name : names) {
      const auto* v = spec.FindFeatureView(name);
      if (v == nullptr) return base::InvalidArgument("no feature view '" + name + "'");
      if (!is_stream(*v)) {
        return base::InvalidArgument("feature view '" + name + "' reads '" + v->source +
                                     "', which is not a kafka source: `sluice materialize " + name +
                                     "` loads it");
      }
      views.push_back(v);
    }
  }
  for (const auto* v : views) {
    if (v->source != views.front()->source) {
      return base::InvalidArgument("feature views '" + views.front()->name + "' and '" + v->name +
                                   "' read different kafka sources ('" + views.front()->source +
                                   "', '" + v->source +
                                   "'): run one `sluice stream` per source, naming its views");
    }
  }
  return views;
}

std::string StatusLine(const std::string& source, const engine::StreamStatus& st, double secs) {
  std::int64_t lag = 0;
  for (const auto& [p, l] : st.lag)
    lag += l;
  char line[256];
  std::snprintf(line, sizeof(line),
                "%s: %s events (%s/s)  lag %s  late %s  quarantined %s  buffered %s",
                source.c_str(), HumanCount(static_cast<double>(st.counts.consumed)).c_str(),
                HumanCount(secs > 0 ? static_cast<double>(st.counts.consumed) / secs : 0).c_str(),
                HumanCount(static_cast<double>(lag)).c_str(),
                HumanCount(static_cast<double>(st.counts.late)).c_str(),
                HumanCount(static_cast<double>(st.counts.quarantined)).c_str(),
                HumanCount(static_cast<double>(st.buffered)).c_str());
  return line;
}

// `--metrics`: the stream's counters, lag and latencies for Prometheus, served by the serving
// module's HTTP server (GET /metrics; /healthz and /readyz answer too, features do not).
class StreamMetrics final : public serve::Backend {
 public:
  explicit StreamMetrics(std::string source) : source_(std::move(source)) {}

  // The streamed views' ingestion-to-servable SLOs (monitoring.freshness max_ingest_latency):
  // every event whose freshness exceeds one is counted as a violation of that view's SLO.
  void AddIngestLatencySlo(const std::string& view, base::Duration limit) {
    slos_.push_back({view, limit, std::make_unique<std::atomic<std::uint64_t>>(0)});
  }

  void Observe(const engine::StreamStatus& st) {
    for (auto& slo : slos_) {
      std::uint64_t late = 0;
      for (std::int64_t f : st.freshness_micros)
        late += f > slo.limit.count() ? 1 : 0;
      slo.violations->fetch_add(late, std::memory_order_relaxed);
    }
    batch_.Observe(std::chrono::duration_cast<base::Duration>(
        std::chrono::duration<double>(st.last_batch_seconds)));
    store_.Observe(std::chrono::duration_cast<base::Duration>(
        std::chrono::duration<double>(st.store_write_seconds)));
    for (std::int64_t f : st.freshness_micros)
      freshness_.Observe(base::Duration(std::max<std::int64_t>(0, f)));
    std::lock_guard lock(mu_);
    last_ = st;
    last_.freshness_micros.clear();
  }

  serve::Reply Features(std::string_view) override {
    return {404,
            R"({"error":"not_found","message":"sluice stream serves /metrics only"})",
            "not_found",
            {}};
  }
  serve::Reply Ready() override { return {200, R"({"status":"ready"})", "", {}}; }
  std::string GaugesText() const override {
    engine::StreamStatus st;
    {
      std::lock_guard lock(mu_);
      st = last_;
    }
    const std::string src = "source=\"" + source_ + "\"";
    std::string out;
    out += "# HELP sluice_stream_messages_total Kafka messages by outcome (this run).\n";
    out += "# TYPE sluice_stream_messages_total counter\n";
    const std::pair<const char*, std::int64_t> outcomes[] = {{"consumed", st.counts.consumed},
                                                             {"applied", st.counts.applied},
                                                             {"quarantined", st.counts.quarantined},
                                                             {"late", st.counts.late}};
    for (const auto& [name, n] : outcomes) {
      out += "sluice_stream_messages_total{" + src + ",outcome=\"" + name + "\"} " +
             std::to_string(n) + "\n";
    }
    out += "# HELP sluice_stream_buffered Events waiting for the watermark.\n";
    out += "# TYPE sluice_stream_buffered gauge\n";
    out += "sluice_stream_buffered{" + src + "} " + std::to_string(st.buffered) + "\n";
    out += "# HELP sluice_stream_lag Messages behind the partition's high watermark.\n";
    out += "# TYPE sluice_stream_lag gauge\n";
    for (const auto& [p, lag] : st.lag) {
      out += "sluice_stream_lag{" + src + ",partition=\"" + std::to_string(p) + "\"} " +
             std::to_string(lag) + "\n";
    }
    out += "# HELP sluice_stream_segments_total Lake segments landed (this run).\n";
    out += "# TYPE sluice_stream_segments_total counter\n";
    out += "sluice_stream_segments_total{" + src + "} " + std::to_string(st.segments) + "\n";
    out += "# HELP sluice_stream_batch_seconds Time to process one micro-batch.\n";
    out += "# TYPE sluice_stream_batch_seconds histogram\n";
    batch_.Render(out, "sluice_stream_batch_seconds", src);
    out += "# HELP sluice_stream_store_write_seconds Store writes of one micro-batch.\n";
    out += "# TYPE sluice_stream_store_write_seconds histogram\n";
    store_.Render(out, "sluice_stream_store_write_seconds", src);
    out +=
        "# HELP sluice_stream_freshness_seconds Event time to the store write that made the "
        "event servable.\n";
    out += "# TYPE sluice_stream_freshness_seconds histogram\n";
    freshness_.Render(out, "sluice_stream_freshness_seconds", src);
    if (!slos_.empty()) {
      out +=
          "# HELP sluice_stream_freshness_slo_seconds Declared ingestion-to-servable SLO "
          "(monitoring.freshness max_ingest_latency) of a streamed view.\n"
          "# TYPE sluice_stream_freshness_slo_seconds gauge\n";
      for (const auto& slo : slos_) {
        out += "sluice_stream_freshness_slo_seconds{" + src + ",view=\"" + slo.view +
               "\",slo=\"ingest_latency\"} " +
               std::to_string(std::chrono::duration<double>(slo.limit).count()) + "\n";
      }
      out +=
          "# HELP sluice_stream_freshness_slo_violations_total Events that became servable "
          "later than their view's SLO allows (this run).\n"
          "# TYPE sluice_stream_freshness_slo_violations_total counter\n";
      for (const auto& slo : slos_) {
        out += "sluice_stream_freshness_slo_violations_total{" + src + ",view=\"" + slo.view +
               "\",slo=\"ingest_latency\"} " +
               std::to_string(slo.violations->load(std::memory_order_relaxed)) + "\n";
      }
    }
    return out;
  }

 private:
  struct IngestLatencySlo {
    std::string view;
    base::Duration limit;
    std::unique_ptr<std::atomic<std::uint64_t>> violations;
  };
  std::vector<IngestLatencySlo> slos_;  // set before the server starts, then only counted
  std::string source_;
  mutable std::mutex mu_;
  engine::StreamStatus last_;
  serve::LatencyHistogram batch_, store_, freshness_;
};

#if defined(__GLIBC__)
// Advises the heap that grew since the stream started as transparent huge pages (where the kernel
// has them on madvise, its default): a catch-up moves hundreds of MB through fresh heap, and at
// 4 KiB a page that was a page fault every 4 KiB, 30% of a catch-up's CPU on a virtual machine
// whose faults are dear (bench/stream/README.md). glibc only does this itself when started with
// GLIBC_TUNABLES=glibc.malloc.hugetlb=1, which a running process cannot set.
class HeapHugePages {
 public:
  HeapHugePages() : advised_(static_cast<char*>(sbrk(0))) {}

  // Cheap when the heap has not grown (sbrk(0) reads a variable): called every poll.
  void Advise() {
    constexpr std::uintptr_t kPage = 4096;
    auto* top = static_cast<char*>(sbrk(0));
    if (advised_ == reinterpret_cast<char*>(-1) || top == reinterpret_cast<char*>(-1) ||
        top <= advised_) {
      return;
    }
    const std::uintptr_t from = reinterpret_cast<std::uintptr_t>(advised_) & ~(kPage - 1);
    const std::uintptr_t to = reinterpret_cast<std::uintptr_t>(top) & ~(kPage - 1);
    // Advice only: without transparent huge pages the heap works the same, with 4 KiB faults.
    if (to > from) (void)madvise(reinterpret_cast<void*>(from), to - from, MADV_HUGEPAGE);
    advised_ = reinterpret_cast<char*>(to);
  }

 private:
  char* advised_;
};
#else
struct HeapHugePages {
  void Advise() {}
};
#endif

}  // namespace

int RunStream(const StreamCommandOptions& options) {
#if defined(__GLIBC__)
  // A catch-up moves its micro-batches through buffers of tens to hundreds of MB, allocated and
  // freed batch after batch. glibc would map each of them afresh (the kernel zeroing every page)
  // and hand freed memory straight back; a stream keeps up to 1 GB of it for the next batch
  // (docs/streaming.md).
  constexpr size_t kHeapStep = size_t{1} << 30;
  mallopt(M_MMAP_THRESHOLD, static_cast<int>(kHeapStep));
  mallopt(M_TRIM_THRESHOLD, static_cast<int>(kHeapStep));
  // Not one arena for every thread (M_ARENA_MAX 1), although that faults less in a catch-up:
  // librdkafka's fetch thread allocates every message, and sharing the main thread's arena lock
  // with it raised live freshness p99 at 50k events/s from 53 to 99-180 ms (bench/stream).
  // The heap grows in steps of at least 1 GB (address space only until touched), so what a
  // micro-batch touches is almost always heap that HeapHugePages advised already.
  mallopt(M_TOP_PAD, static_cast<int>(kHeapStep));
#endif
  HeapHugePages huge_pages;
  int code = kExitOk;
  auto project = OpenProject(options.project, &code);
  if (!project) return code;
  auto views = StreamingViews(project->spec, options.views);
  if (!views.ok()) return ReportFailure(views.status());
  const config::SourceSpec& source = *project->spec.FindSource((*views)[0]->source);
  auto store_spec = serve::ChooseOnlineStore(project->spec, options.store);
  if (!store_spec.ok()) return ReportFailure(store_spec.status());
  auto store = store::OpenOnlineStore(**store_spec, project->spec.dir, /*read_only=*/false);
  if (!store.ok()) return ReportFailure(store.status());
  auto consumer_options = connectors::KafkaConsumer::OptionsFor(
      source, source.ConsumerGroup(project->spec.name), connectors::ProcessEnvironment());
  if (!consumer_options.ok()) return ReportFailure(consumer_options.status());
  auto consumer = connectors::KafkaConsumer::Open(*consumer_options);
  if (!consumer.ok()) return ReportFailure(consumer.status());

  auto& clock = base::SystemClock::Instance();
  engine::StreamOptions stream_options;
  stream_options.stop_at_end = options.stop_at_end;
  stream_options.segment_rows = options.segment_rows;
  stream_options.segment_age = std::chrono::seconds(options.segment_seconds);
  stream_options.idle_timeout = std::chrono::seconds(options.idle_seconds);
  stream_options.state_cache_bytes = static_cast<size_t>(options.state_cache_mb) << 20;
  // A shared store lets the workers of the source's consumer group share the partitions; RocksDB
  // has one writer per store (a second `sluice stream` on it fails to open it), so one worker
  // takes every partition.
  stream_options.consumer_group =
      (*store_spec)->type == config::OnlineStoreType::kRedis && !options.no_group;
  auto runtime = engine::StreamRuntime::Open(project->spec, source, *views, *project->lake, **store,
                                             std::move(*consumer), clock, stream_options);
  if (!runtime.ok())
    return ReportFailure(runtime.status().WithContext("stream '" + source.name + "'"));

  struct sigaction action {};
  action.sa_handler = OnStreamStopSignal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);

  // --metrics: Prometheus text on GET /metrics, from a server thread of its own.
  StreamMetrics stream_metrics(source.name);
  for (const auto& slo : project->spec.monitoring.freshness) {
    for (const config::FeatureViewSpec* v : *views) {
      if (v->name == slo.view && slo.max_ingest_latency) {
        stream_metrics.AddIngestLatencySlo(slo.view, *slo.max_ingest_latency);
      }
    }
  }
  serve::Metrics http_metrics;
  std::unique_ptr<serve::HttpServer> http;
  std::thread http_thread;
  if (!options.metrics.empty()) {
    auto address = serve::ParseListenAddress(options.metrics);
    if (!address.ok()) return ReportFailure(address.status().WithContext("--metrics"));
    serve::HttpServerOptions http_options;
    http_options.host = address->first;
    http_options.port = address->second;
    http_options.threads = 1;
    http = std::make_unique<serve::HttpServer>(stream_metrics, http_metrics, clock, http_options);
    auto port = http->Bind();
    if (!port.ok()) return ReportFailure(port.status().WithContext("--metrics"));
    std::fprintf(stderr, "stream %s: metrics on http://%s:%d/metrics\n", source.name.c_str(),
                 address->first.c_str(), *port);
    http_thread = std::thread([&] { (void)http->Run(); });
  }

  const auto started = clock.Now();
  auto run_id = project->registry->BeginRun("stream", source.name, base::FormatTime(started));
  ProgressMeter meter("stream " + source.name, 0, clock);
  engine::StreamStatus last;
  // Event time to the store write that made each event servable: meaningful for live streams
  // whose events carry the time they happened (a catch-up over old events shows their age).
  std::vector<std::int64_t> freshness;
  constexpr size_t kMaxFreshnessSamples = size_t{1} << 23;
  huge_pages.Advise();
  base::Status result = (*runtime)->Run(g_stop, [&](const engine::StreamStatus& st) {
    huge_pages.Advise();
    last = st;
    if (http) stream_metrics.Observe(st);
    for (std::int64_t f : st.freshness_micros) {
      if (freshness.size() < kMaxFreshnessSamples) freshness.push_back(f);
    }
    const double secs = std::chrono::duration<double>(clock.Now() - started).count();
    meter.UpdateStage(StatusLine(source.name, st, secs), -1);
  });
  meter.Finish();
  if (http) {
    http->Stop();
    http_thread.join();
  }
  const double secs = std::chrono::duration<double>(clock.Now() - started).count();
  if (run_id.ok()) {
    registry::RunRecord r;
    r.id = *run_id;
    r.status = result.ok() ? "succeeded" : "failed";
    r.error = result.ok() ? "" : result.ToString();
    r.finished_at = base::FormatTime(clock.Now());
    r.duration_seconds = secs;
    r.rows_read = last.counts.consumed;
    r.rows_loaded = last.counts.applied;
    r.rows_quarantined = last.counts.quarantined + last.counts.late;
    (void)project->registry->FinishRun(r);
  }
  if (!result.ok()) return ReportFailure(result.WithContext("stream '" + source.name + "'"));
  engine::StreamRuntime::EndBeforeExit(std::move(*runtime));  // the process ends after this
  std::printf(
      "stream %s: consumed %lld messages (applied %lld, quarantined %lld, late %lld, buffered "
      "%lld) into %zu view(s) in %s; %lld lake segment(s) in %.1fs\n",
      source.name.c_str(), static_cast<long long>(last.counts.consumed),
      static_cast<long long>(last.counts.applied), static_cast<long long>(last.counts.quarantined),
      static_cast<long long>(last.counts.late), static_cast<long long>(last.buffered),
      views->size(), (*store)->Describe().c_str(), static_cast<long long>(last.segments), secs);
  for (const std::string& view : last.rebuilt) {
    std::printf(
        "  feature view %s: changed definition rebuilt into a new generation (%lld archived "
        "events replayed, then the topic's tail) and switched to\n",
        view.c_str(), static_cast<long long>(last.rebuilt_from_archive));
  }
  if (!freshness.empty()) {
    std::sort(freshness.begin(), freshness.end());
    auto pct = [&](double q) {
      return static_cast<double>(
                 freshness[static_cast<size_t>(q * static_cast<double>(freshness.size() - 1))]) /
             1000.0;
    };
    std::printf("  event-to-online freshness: p50 %.1f ms, p99 %.1f ms, max %.1f ms (%zu events)\n",
                pct(0.5), pct(0.99), pct(1.0), freshness.size());
  }
  return kExitOk;
}

}  // namespace sluice::cli
