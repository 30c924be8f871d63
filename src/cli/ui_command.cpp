// `sluice ui`: the read-only web console (docs/console.md) on serve's HTTP layer, until
// SIGTERM or SIGINT.
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "base/clock.h"
#include "cli/commands.h"
#include "cli/exit_code.h"
#include "cli/project_context.h"
#include "console/console.h"
#include "serve/http_server.h"
#include "serve/metrics.h"

namespace sluice::cli {

int RunUi(const UiOptions& options) {
  // As in `sluice serve`: stop signals are taken by a dedicated thread with sigwait.
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
  // A console has a handful of users; pages are rendered one at a time anyway.
  http_options.threads = 2;
  if (!options.token_env.empty()) {
    const char* token = std::getenv(options.token_env.c_str());
    if (token == nullptr || *token == '\0') {
      return ReportFailure(base::InvalidArgument("--token-env: the environment variable '" +
                                                 options.token_env + "' is not set or empty"));
    }
    http_options.token = token;
  }

  int code = kExitOk;
  auto project = OpenProject(options.project, &code);
  if (!project) return code;

  base::Clock& clock = base::SystemClock::Instance();
  serve::Metrics metrics;
  auto console = console::Console::Open(project->spec, *project->lake,
                                        ResolvePath(project->spec, project->spec.registry.path),
                                        clock, metrics);
  if (!console.ok()) return ReportFailure(console.status());

  serve::HttpServer http(**console, metrics, clock, http_options);
  auto port = http.Bind();
  if (!port.ok()) return ReportFailure(port.status());
  std::printf("sluice ui: listening on http://%s:%d/ (project %s%s)\n",
              http_options.host.find(':') != std::string::npos
                  ? ("[" + http_options.host + "]").c_str()
                  : http_options.host.c_str(),
              *port, project->spec.name.c_str(), http_options.token ? ", token required" : "");
  std::fflush(stdout);

  std::atomic<int> received{0};
  std::thread signal_waiter([&] {
    int sig = 0;
    if (sigwait(&stop_signals, &sig) == 0) received = sig;
    http.Stop();
  });
  base::Status ran = http.Run();
  if (received == 0) pthread_kill(signal_waiter.native_handle(), SIGTERM);
  signal_waiter.join();
  if (!ran.ok()) return ReportFailure(ran);
  std::printf("sluice ui: stopped\n");
  return kExitOk;
}

}  // namespace sluice::cli
