#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "base/clock.h"
#include "base/result.h"
#include "config/project.h"
#include "lake/lake.h"
#include "registry/model_registry.h"
#include "registry/pipeline_history.h"
#include "registry/registry.h"
#include "serve/backend.h"
#include "serve/feature_server.h"
#include "serve/metrics.h"
#include "warehouse/duckdb_database.h"

namespace sluice::console {

// The web console behind `sluice ui` (docs/console.md): HTML pages rendered from the lake, the
// registry and the online stores, plus the serving API's POST /v1/features and GET /readyz for
// the pages' look-up form and freshness tables. Read-only: it opens the stores read-only, never
// publishes, writes or deletes anything. Served by serve::HttpServer (it is a serve::Backend).
// Thread-safe: page rendering is serialized (one registry handle, one DuckDB connection); the
// feature look-ups go straight to the thread-safe FeatureServer.
class Console final : public serve::Backend {
 public:
  // `project`, `lake`, `clock` and `metrics` must outlive the console. A project without online
  // stores (or whose stores cannot be opened) still gets every page; look-ups then answer 503.
  static base::Result<std::unique_ptr<Console>> Open(const config::ProjectSpec& project,
                                                     const lake::Lake& lake,
                                                     const std::filesystem::path& registry_path,
                                                     base::Clock& clock, serve::Metrics& metrics);
  ~Console() override;

  serve::Reply Features(std::string_view body) override;
  serve::Reply Ready() override;
  std::string GaugesText() const override;
  std::optional<serve::Reply> Get(std::string_view target, bool authorized) override;

 private:
  Console(const config::ProjectSpec& project, const lake::Lake& lake, base::Clock& clock,
          registry::Registry registry, warehouse::DuckDb db);

  // Page renderers: each returns the page's HTML body (inside the shared layout).
  std::string OverviewPage();
  std::string DatasetsPage();
  std::optional<std::string> DatasetPage(const std::string& name);
  std::optional<std::string> VersionPage(const std::string& id);
  std::string LineagePage();
  std::string ViewsPage();
  std::optional<std::string> ViewPage(const std::string& name);
  std::string PipelinesPage();
  std::string RunsPage(const std::string& target);
  std::string MonitoringPage();
  std::optional<std::string> LogPage(const std::map<std::string, std::string>& query);

  const config::ProjectSpec& project_;
  const lake::Lake& lake_;
  base::Clock& clock_;
  std::unique_ptr<serve::FeatureServer> features_;  // null: no online store could be served
  std::string features_problem_;                    // why features_ is null

  std::mutex mu_;  // guards registry_, db_, pipelines_ and models_
  registry::Registry registry_;
  warehouse::DuckDb db_;  // in-memory, for reading quarantine and profile files
  // Pipeline runs and attempts, registered models (src/orchestrate writes them); a problem
  // opening them is shown on the pages that need them.
  std::optional<registry::PipelineHistory> pipelines_;
  std::string pipelines_problem_;
  std::optional<registry::ModelRegistry> models_;
  std::string models_problem_;
};

}  // namespace sluice::console
