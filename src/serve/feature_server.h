#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "config/project.h"
#include "engine/online_view.h"
#include "engine/view_freshness.h"
#include "lake/lake.h"
#include "serve/backend.h"
#include "serve/catalog.h"
#include "serve/metrics.h"
#include "serve/request.h"
#include "serve/serving_log.h"
#include "store/online_store.h"
#include "warehouse/duckdb_database.h"

namespace sluice::serve {

struct FeatureServerOptions {
  std::string default_store;  // the store view requests read; empty = the project's first
  std::size_t max_entities = kDefaultMaxEntities;
  store::StoreOptions store_options;
  // Where served values are logged (a sample of requests); null = not logged. Must outlive
  // the server.
  ServingLog* log = nullptr;
  // Reads the project's files again (config::LoadProject of the project's folder). Called when
  // a store holds a view of another definition than the one the server planned (a `sluice
  // stream` rebuilt it into a new generation): if the files now define exactly what the store
  // holds, the server switches that view to it without a restart. Null: never reloaded.
  std::function<base::Result<config::ProjectSpec>()> reload_project;
};

// The reload_project of a server over the project in `dir` (empty: a project loaded from a
// string, never reloaded): config::LoadProject of that folder.
std::function<base::Result<config::ProjectSpec>()> ProjectFilesReloader(
    const std::filesystem::path& dir);

// A served view's freshness now, measured as the /metrics gauges measure it.
struct ServedViewFreshness {
  std::string view;
  std::string store;
  store::ViewMeta meta;
  engine::ViewFreshness freshness;
};

// The serving core, without HTTP: answers feature requests from the online stores with the
// engine's OnlineView (the same plan and code as training sets), tracks what each store holds,
// and reports readiness and per-view gauges. Thread-safe: any number of request threads call
// Features/Ready/GaugesText while one refresher calls Refresh.
//
// Served views: every feature view in the default store, and each feature service's views in
// the service's store. A view is ready when its store is reachable and holds a materialization
// of the definition this process loaded (and of the current state encoding).
//
// Consistency: every value in a response comes from one MultiGet per view (one consistent
// point of the store, read with the view's meta), so all features of one entity come from one
// materialization. A new materialization is picked up by the next Refresh (values are read from
// the store's current state on every request; Refresh only reloads the plan and fitted
// transforms when the source version changes).
//
// Generations: a request whose MultiGet finds the view's meta naming another definition than
// the plan it holds (the store switched to a rebuilt generation) refreshes at once and reads
// again with the new snapshot, so no value of one definition is read with another's plan and no
// request fails over a switch. Refresh plans the view anew from the project's files
// (options.reload_project) when they define what the store holds; otherwise the view is not
// ready (serving one definition's state with another's plan would be skew). In-flight requests
// finish on the snapshot they started with.
class FeatureServer final : public Backend {
 public:
  // Opens the stores read-only and loads every served view. A store that cannot be opened yet
  // or a view not yet materialized does not fail: it is reported by Ready and retried by
  // Refresh. Fails for project errors (no online store, a service naming an unknown feature).
  // `project`, `lake`, `clock` and `metrics` must outlive the server.
  static base::Result<std::unique_ptr<FeatureServer>> Open(const config::ProjectSpec& project,
                                                           const lake::Lake& lake,
                                                           const FeatureServerOptions& options,
                                                           base::Clock& clock, Metrics& metrics);
  ~FeatureServer();
  FeatureServer(const FeatureServer&) = delete;
  FeatureServer& operator=(const FeatureServer&) = delete;

  // POST /v1/features: 200 with RenderFeatureResponse's body, or an error reply (ErrorBody)
  // classified by ClassifyError. "at" defaults to clock.Now().
  Reply Features(std::string_view body) override;

  // GET /readyz: refreshes, then 200 when every served view is ready, else 503; the body lists
  // each view's state and, when not ready, why.
  Reply Ready() override;

  // Per-view gauges in Prometheus text format: freshness (now - newest event time behind the
  // stored values), ingestion-to-servable latency, the declared freshness SLOs
  // (monitoring.freshness) and whether each is violated, entities held, readiness.
  std::string GaugesText() const override;

  // Re-opens stores that could not be opened, catches read-only stores up with their writer,
  // re-reads every view's ViewMeta and reloads views whose source version changed. Serialized:
  // concurrent calls run one after the other.
  base::Status Refresh();

  // Calls Refresh every `interval` on a background thread until StopRefresher (or
  // destruction). Waits on a condition variable, so stopping is immediate.
  void StartRefresher(std::chrono::milliseconds interval);
  void StopRefresher();

  // The catalog requests are currently validated against.
  Catalog CurrentCatalog() const;

  // Every served view with a materialization, with its freshness at clock.Now() (from the
  // current snapshot: never waits for a refresh). For freshness SLO alerts.
  std::vector<ServedViewFreshness> Freshness() const;

 private:
  struct ServedView {
    std::string store;
    std::string view;
    // The project `online` was planned from: the one the server started with, or the project
    // files read again when the store switched to a changed definition.
    std::shared_ptr<const config::ProjectSpec> project;
    std::string planned_source;  // the source version `online` was planned against
    std::shared_ptr<const engine::OnlineView> online;
    std::shared_ptr<const std::map<std::string, std::string>> versions;  // feature -> version
    std::optional<store::ViewMeta> meta;
    std::string source_created_at;  // meta's source version's created_at ("" = unknown)
    std::string problem;            // empty = ready
  };
  struct Snapshot {
    Catalog catalog;
    std::vector<ServedView> views;
    std::map<std::string, std::shared_ptr<store::OnlineStore>> stores;  // null: not open
    std::map<std::string, std::string> store_problems;

    const ServedView* Find(std::string_view store, std::string_view view) const;
  };
  // A DuckDB connection checked out for one request (derived features); DuckDB connections
  // are not thread-safe, so each request thread uses its own.
  class DbLease;

  FeatureServer(const config::ProjectSpec& project, const lake::Lake& lake,
                FeatureServerOptions options, base::Clock& clock, Metrics& metrics,
                warehouse::DuckDb root_db, warehouse::DuckDb plan_db);

  std::shared_ptr<const Snapshot> Current() const;
  base::Status RefreshLocked();
  // Reads the states of every lookup of `request` (one MultiGetWithMeta per view) into
  // `states`; false when a view's stored meta names another definition than `snapshot` planned
  // (a generation switch), nothing read then is to be used.
  base::Result<bool> ReadStates(const Snapshot& snapshot, const FeatureRequest& request,
                                std::vector<std::vector<std::optional<std::string>>>& states,
                                std::vector<const ServedView*>& served_views);
  // After a request saw a generation switch in the store: refreshes unless someone did since
  // `seen` was taken, and returns the current snapshot.
  std::shared_ptr<const Snapshot> RefreshAfterSwitch(const std::shared_ptr<const Snapshot>& seen);
  // The view planned from the project's files read again (once per Refresh), when they define
  // what `meta` names, with that project in *project; otherwise null, and *why says why.
  std::shared_ptr<const engine::OnlineView> PlanChangedDefinition(
      const std::string& view, const store::ViewMeta& meta,
      std::shared_ptr<const config::ProjectSpec>* project, std::string* why);
  base::Result<std::unique_ptr<warehouse::DuckDb>> AcquireDb();
  void ReleaseDb(std::unique_ptr<warehouse::DuckDb> db);
  Reply Error(const base::Status& status);
  std::int64_t NowMicros() const;

  const config::ProjectSpec& project_;
  // project_, not owned: the project of views that never switched definition.
  const std::shared_ptr<const config::ProjectSpec> startup_project_;
  const lake::Lake& lake_;
  const FeatureServerOptions options_;
  base::Clock& clock_;
  Metrics& metrics_;
  std::vector<std::pair<std::string, std::string>> served_;  // (store, view)

  mutable std::mutex snapshot_mu_;
  std::shared_ptr<const Snapshot> snapshot_;

  // An in-memory database that request threads connect to; never queried itself.
  warehouse::DuckDb root_db_;
  std::mutex refresh_mu_;      // one Refresh at a time; guards the members below
  warehouse::DuckDb plan_db_;  // for planning views (the refresher's own connection)
  // The project files read again in this Refresh (null: not yet); and per (store, view), the
  // stored definition that the files did not define at the last look, and when that was, so
  // a server whose files lag behind re-reads them every few seconds, not at every refresh.
  std::shared_ptr<const config::ProjectSpec> reloaded_;
  bool reload_tried_ = false;
  struct FailedSwitch {
    std::string definition_hash;
    std::int64_t at_micros = 0;
    std::string why;
  };
  std::map<std::pair<std::string, std::string>, FailedSwitch> failed_switches_;

  std::mutex db_mu_;
  std::vector<std::unique_ptr<warehouse::DuckDb>> free_dbs_;

  std::mutex refresher_mu_;
  std::condition_variable refresher_cv_;
  bool refresher_stop_ = false;
  std::thread refresher_;
};

}  // namespace sluice::serve
