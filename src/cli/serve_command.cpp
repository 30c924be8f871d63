// `sluice serve`: the HTTP/JSON feature serving API (docs/serving.md) over the project's online
// stores, until SIGTERM or SIGINT.
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "cli/commands.h"
#include "cli/exit_code.h"
#include "cli/project_context.h"
#include "config/project_loader.h"
#include "quality/freshness_watch.h"
#include "serve/feature_server.h"
#include "serve/http_server.h"
#include "serve/metrics.h"
#include "serve/serving_log.h"

namespace sluice::cli {

int RunServe(const ServeOptions& options) {
  // Block the stop signals in every thread (threads inherit the mask, so this comes before any
  // library starts one); a dedicated thread takes them with sigwait and stops the server from
  // ordinary code rather than from a signal handler.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  auto address = serve::ParseListenAddress(options.address);
  if (!address.ok()) return ReportFailure(address.status().WithContext("--address"));
  serve::HttpServerOptions http_options;
  http_options.host = address->first;
  http_options.port = address->second;
  // One loop per core serves a local store fastest (bench/serve/README.md); more loops help
  // when look-ups wait on a remote store (Redis).
  http_options.threads = options.threads > 0
                             ? options.threads
                             : static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  if (!options.token_env.empty()) {
    // From the environment only: a token on the command line would show in `ps` and shell
    // history. It is never printed.
    const char* token = std::getenv(options.token_env.c_str());
    if (token == nullptr || *token == '\0') {
      return ReportFailure(base::InvalidArgument("--token-env: the environment variable '" +
                                                 options.token_env + "' is not set or empty"));
    }
    http_options.token = token;
  }

  auto freshness_interval = base::ParseDuration(options.freshness_interval);
  if (!freshness_interval.ok() || freshness_interval->count() < 0) {
    return ReportFailure(base::InvalidArgument("--freshness-interval: '" +
                                               options.freshness_interval +
                                               "' is not a duration (e.g. 10s, 1m, 0s)"));
  }

  int code = kExitOk;
  auto project = OpenProject(options.project, &code);
  if (!project) return code;

  base::Clock& clock = base::SystemClock::Instance();
  serve::Metrics metrics;
  serve::FeatureServerOptions server_options;
  server_options.default_store = options.store;
  // A view switched to a rebuilt generation of a changed definition is served with that
  // definition, read from the project's files (docs/serving.md, "Definition changes").
  server_options.reload_project = serve::ProjectFilesReloader(project->spec.dir);
  std::unique_ptr<serve::ServingLog> log;
  const config::ServingLogSpec& log_spec = project->spec.monitoring.serving_log;
  if (log_spec.enabled && !options.no_serving_log) {
    auto opened = serve::ServingLog::Open(project->lake->root(), log_spec, clock);
    if (!opened.ok()) return ReportFailure(opened.status());
    log = std::move(*opened);
    server_options.log = log.get();
  }
  auto server =
      serve::FeatureServer::Open(project->spec, *project->lake, server_options, clock, metrics);
  if (!server.ok()) return ReportFailure(server.status());

  serve::HttpServer http(**server, metrics, clock, http_options);
  auto port = http.Bind();
  if (!port.ok()) return ReportFailure(port.status());

  const serve::Reply ready = (*server)->Ready();
  if (ready.http_status != 200) {
    std::fprintf(stderr, "sluice serve: not ready yet (GET /readyz for details): %s",
                 ready.body.c_str());
  }
  const serve::Catalog catalog = (*server)->CurrentCatalog();
  std::printf("sluice serve: listening on http://%s:%d (%zu views, %zu feature services%s)\n",
              http_options.host.find(':') != std::string::npos
                  ? ("[" + http_options.host + "]").c_str()
                  : http_options.host.c_str(),
              *port, catalog.views.size(), catalog.services.size(),
              http_options.token ? ", bearer token required" : "");
  std::fflush(stdout);

  (*server)->StartRefresher(std::chrono::milliseconds(options.refresh_ms));

  // Freshness SLO alerts, on their own thread: a slow webhook never holds a request.
  std::unique_ptr<quality::FreshnessWatch> freshness;
  if (!project->spec.monitoring.freshness.empty() && freshness_interval->count() > 0) {
    serve::FeatureServer* raw = server->get();
    freshness = std::make_unique<quality::FreshnessWatch>(
        project->spec, *project->registry, clock,
        [raw] {
          std::vector<quality::ServedFreshness> served;
          for (const serve::ServedViewFreshness& v : raw->Freshness()) {
            served.push_back(quality::ServedFreshness{
                v.view, v.store, v.meta.source_version, v.meta.materialized_at,
                v.meta.newest_event_micros, v.freshness.event_age_micros,
                v.freshness.ingest_latency_micros});
          }
          return served;
        },
        [](const base::Result<std::vector<quality::MonitorResult>>& results) {
          if (!results.ok()) {
            std::fprintf(stderr, "sluice serve: freshness check: %s\n",
                         results.status().ToString().c_str());
            return;
          }
          for (const quality::MonitorResult& r : *results) {
            if (r.status != "alert" || r.repeated) continue;
            std::string sent;
            for (const std::string& d : r.deliveries)
              sent += (sent.empty() ? "" : "; ") + d;
            std::fprintf(stderr, "sluice serve: alert [%s] %s: %s (%s)\n", r.severity.c_str(),
                         r.monitor.c_str(), r.summary.c_str(),
                         sent.empty() ? "no sinks" : sent.c_str());
          }
        });
    freshness->Start(std::chrono::duration_cast<std::chrono::milliseconds>(*freshness_interval));
  }

  std::atomic<int> received{0};
  std::thread signal_waiter([&] {
    int sig = 0;
    if (sigwait(&stop_signals, &sig) == 0) received = sig;
    http.Stop();
  });
  base::Status ran = http.Run();
  if (received == 0) {
    // Run ended on its own (an error): wake the waiter with a signal only it can take.
    pthread_kill(signal_waiter.native_handle(), SIGTERM);
  }
  signal_waiter.join();
  if (freshness) freshness->Stop();
  (*server)->StopRefresher();
  if (log) {
    // Every request is answered by now: what was sampled is published before the exit.
    base::Status closed = log->Close();
    const serve::ServingLogCounts counts = log->Counts();
    if (!closed.ok()) {
      std::fprintf(stderr, "sluice serve: serving log: %s\n", closed.ToString().c_str());
    }
    std::printf(
        "sluice serve: serving log '%s': %llu rows in %llu versions, %llu requests "
        "dropped (queue full)\n",
        log->dataset().c_str(), static_cast<unsigned long long>(counts.rows),
        static_cast<unsigned long long>(counts.versions),
        static_cast<unsigned long long>(counts.dropped));
  }
  if (!ran.ok()) return ReportFailure(ran);
  std::printf("sluice serve: stopped (%s); in-flight requests were answered\n",
              received == SIGINT ? "SIGINT" : "SIGTERM");
  return kExitOk;
}

}  // namespace sluice::cli
