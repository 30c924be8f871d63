#include "serve/feature_server.h"

#include <algorithm>
#include <cstdio>
#include <utility>

#include "base/time.h"
#include "config/project_loader.h"
#include "engine/entity_state.h"
#include "engine/view_freshness.h"
#include "serve/json_writer.h"
#include "serve/request.h"
#include "serve/response.h"

namespace sluice::serve {

std::function<base::Result<config::ProjectSpec>()> ProjectFilesReloader(
    const std::filesystem::path& dir) {
  if (dir.empty()) return nullptr;
  return [dir]() -> base::Result<config::ProjectSpec> {
    std::vector<config::Diagnostic> diagnostics;
    auto spec = config::LoadProject(dir, &diagnostics);
    if (spec.ok() || diagnostics.empty()) return spec;
    // The server reports this as the view's reason for not being ready: name the first place.
    return base::Status(spec.status().code(),
                        spec.status().message() + ", the first: " + diagnostics.front().ToString(),
                        spec.status().retryable());
  };
}

namespace {

base::Result<warehouse::DuckDb> OpenDuckDb() {
  warehouse::DuckDb::Options options;
  // Derived features are one-row expressions: more threads would only cost start-up.
  options.threads = 1;
  return warehouse::OpenFeatureSqlDb(options);
}

// A connection for one thread, set up as materialization and training sets set theirs, so
// as_of-based expressions agree.
base::Result<warehouse::DuckDb> Connect(const warehouse::DuckDb& root) {
  return warehouse::ConnectFeatureSql(root);
}

std::string Seconds(std::int64_t micros) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%.6f", static_cast<double>(micros) / 1e6);
  return buf;
}

std::string ProblemFor(const engine::OnlineView& online, const std::optional<store::ViewMeta>& meta,
                       const std::string& view, const std::string& store) {
  if (!meta) {
    return "not materialized in store '" + store + "': run `sluice materialize " + view + "`";
  }
  if (meta->definition_hash != online.plan().definition_hash) {
    return "store '" + store + "' holds a materialization of a different definition (" +
           meta->definition_hash.substr(0, 12) + ", this server loaded " +
           online.plan().definition_hash.substr(0, 12) +
           "): materialize the current definition and restart `sluice serve`";
  }
  if (meta->encoding_version != engine::kStateEncoding) {
    return "store '" + store + "' holds state encoding " + std::to_string(meta->encoding_version) +
           ", this server reads " + std::to_string(engine::kStateEncoding) +
           ": run `sluice materialize --force " + view + "`";
  }
  return "";
}

// Whether `meta`, read with some of a view's values, says they were written for `online`'s
// plan: the same definition, in the encoding it reads. Otherwise the store switched the view
// to another generation (or deleted it) since the server planned it.
bool WrittenFor(const engine::OnlineView& online, const std::optional<store::ViewMeta>& meta) {
  return meta && meta->definition_hash == online.plan().definition_hash &&
         meta->encoding_version == engine::kStateEncoding;
}

base::Status SwitchedWhileRead(const std::string& view) {
  return base::Unavailable("feature view '" + view +
                           "' switched to another generation while it was read; retry");
}

}  // namespace

class FeatureServer::DbLease {
 public:
  DbLease(FeatureServer* server, std::unique_ptr<warehouse::DuckDb> db)
      : server_(server), db_(std::move(db)) {}
  ~DbLease() { server_->ReleaseDb(std::move(db_)); }
  DbLease(const DbLease&) = delete;
  DbLease& operator=(const DbLease&) = delete;
  warehouse::DuckDb& db() { return *db_; }

 private:
  FeatureServer* server_;
  std::unique_ptr<warehouse::DuckDb> db_;
};

const FeatureServer::ServedView* FeatureServer::Snapshot::Find(std::string_view store,
                                                               std::string_view view) const {
  for (const auto& v : views) {
    if (v.store == store && v.view == view) return &v;
  }
  return nullptr;
}

FeatureServer::FeatureServer(const config::ProjectSpec& project, const lake::Lake& lake,
                             FeatureServerOptions options, base::Clock& clock, Metrics& metrics,
                             warehouse::DuckDb root_db, warehouse::DuckDb plan_db)
    : project_(project),
      startup_project_(std::shared_ptr<const config::ProjectSpec>(), &project),
      lake_(lake),
      options_(std::move(options)),
      clock_(clock),
      metrics_(metrics),
      root_db_(std::move(root_db)),
      plan_db_(std::move(plan_db)) {}

FeatureServer::~FeatureServer() {
  StopRefresher();
}

base::Result<std::unique_ptr<FeatureServer>> FeatureServer::Open(
    const config::ProjectSpec& project, const lake::Lake& lake, const FeatureServerOptions& options,
    base::Clock& clock, Metrics& metrics) {
  SLUICE_ASSIGN_OR_RETURN(const config::OnlineStoreSpec* default_store,
                          ChooseOnlineStore(project, options.default_store));
  SLUICE_ASSIGN_OR_RETURN(warehouse::DuckDb root_db, OpenDuckDb());
  SLUICE_ASSIGN_OR_RETURN(warehouse::DuckDb plan_db, Connect(root_db));
  FeatureServerOptions resolved = options;
  resolved.default_store = default_store->name;
  std::unique_ptr<FeatureServer> server(new FeatureServer(
      project, lake, std::move(resolved), clock, metrics, std::move(root_db), std::move(plan_db)));
  for (const auto& v : project.feature_views) {
    server->served_.emplace_back(default_store->name, v.name);
  }
  for (const auto& s : project.feature_services) {
    for (const auto& ref : s.features) {
      std::pair<std::string, std::string> key(s.online_store, ref.substr(0, ref.find(':')));
      if (std::find(server->served_.begin(), server->served_.end(), key) == server->served_.end()) {
        server->served_.push_back(std::move(key));
      }
    }
  }
  server->snapshot_ = std::make_shared<Snapshot>();
  SLUICE_RETURN_IF_ERROR(server->Refresh());
  return server;
}

std::shared_ptr<const FeatureServer::Snapshot> FeatureServer::Current() const {
  std::lock_guard lock(snapshot_mu_);
  return snapshot_;
}

Catalog FeatureServer::CurrentCatalog() const {
  return Current()->catalog;
}

std::int64_t FeatureServer::NowMicros() const {
  return clock_.Now().time_since_epoch().count();
}

base::Status FeatureServer::Refresh() {
  std::lock_guard lock(refresh_mu_);
  return RefreshLocked();
}

std::shared_ptr<const engine::OnlineView> FeatureServer::PlanChangedDefinition(
    const std::string& view, const store::ViewMeta& meta,
    std::shared_ptr<const config::ProjectSpec>* project, std::string* why) {
  if (!options_.reload_project) {
    *why = "this server does not read the project files again: restart it";
    return nullptr;
  }
  if (!reload_tried_) {
    reload_tried_ = true;
    auto loaded = options_.reload_project();
    if (!loaded.ok()) {
      *why = "the project files cannot be read again: " + loaded.status().ToString();
      return nullptr;
    }
    reloaded_ = std::make_shared<const config::ProjectSpec>(std::move(*loaded));
  }
  if (!reloaded_) {
    *why = "the project files cannot be read again";
    return nullptr;
  }
  const config::FeatureViewSpec* spec = reloaded_->FindFeatureView(view);
  if (spec == nullptr) {
    *why = "the project files no longer declare the view";
    return nullptr;
  }
  auto loaded = engine::OnlineView::Load(*reloaded_, *spec, lake_, meta.source_version, plan_db_);
  if (!loaded.ok()) {
    *why = "its definition in the project files cannot be loaded: " + loaded.status().ToString();
    return nullptr;
  }
  if ((*loaded)->plan().definition_hash != meta.definition_hash) {
    *why = "the project files define " + (*loaded)->plan().definition_hash.substr(0, 12);
    return nullptr;
  }
  *project = reloaded_;
  return std::shared_ptr<const engine::OnlineView>(std::move(*loaded));
}

base::Status FeatureServer::RefreshLocked() {
  const std::shared_ptr<const Snapshot> previous = Current();
  auto next = std::make_shared<Snapshot>();
  reloaded_.reset();
  reload_tried_ = false;
  std::vector<std::string> switched;  // views planned anew from the files in this refresh

  // Stores: keep open handles, retry the others.
  for (const auto& [store_name, view_name] : served_) {
    (void)view_name;
    if (next->stores.count(store_name) != 0) continue;
    std::shared_ptr<store::OnlineStore> handle;
    auto prev = previous->stores.find(store_name);
    if (prev != previous->stores.end() && prev->second) {
      handle = prev->second;
      base::Status caught_up = handle->CatchUp();
      if (!caught_up.ok()) next->store_problems[store_name] = caught_up.ToString();
    } else {
      const config::OnlineStoreSpec* spec = project_.FindOnlineStore(store_name);
      if (spec == nullptr) {
        return base::InvalidArgument("a feature service names an unknown online store '" +
                                     store_name + "'");
      }
      auto opened =
          store::OpenOnlineStore(*spec, project_.dir, /*read_only=*/true, options_.store_options);
      if (opened.ok()) {
        handle = std::move(*opened);
      } else {
        next->store_problems[store_name] =
            "cannot open online store '" + store_name + "': " + opened.status().ToString();
      }
    }
    next->stores[store_name] = handle;
  }

  for (const auto& [store_name, view_name] : served_) {
    ServedView served;
    served.store = store_name;
    served.view = view_name;
    const ServedView* prev = previous->Find(store_name, view_name);
    served.project = prev && prev->project ? prev->project : startup_project_;
    const config::FeatureViewSpec* spec = served.project->FindFeatureView(view_name);
    if (spec == nullptr) {
      return base::InvalidArgument("a feature service names an unknown feature view '" + view_name +
                                   "'");
    }
    const auto& handle = next->stores[store_name];
    std::string store_problem;
    if (!handle) {
      store_problem = next->store_problems[store_name];
    } else {
      auto meta = handle->Meta(view_name);
      if (meta.ok()) {
        served.meta = *meta;
      } else {
        store_problem = "online store '" + store_name + "': " + meta.status().ToString();
        next->store_problems[store_name] = store_problem;
        if (prev) served.meta = prev->meta;
      }
    }
    if (served.meta) {
      if (prev && prev->meta && prev->meta->source_version == served.meta->source_version) {
        served.source_created_at = prev->source_created_at;
      } else {
        served.source_created_at = engine::SourceCreatedAt(lake_, *served.meta);
      }
    }
    // Plan against the source version the values were computed from; before the first
    // materialization, against the lake's current version (for the catalog's key types).
    std::string source;
    if (served.meta) {
      source = served.meta->source_version;
    } else if (prev && prev->online) {
      source = prev->planned_source;
    } else {
      auto current = lake_.Current(spec->source);
      if (current.ok() && *current) source = (*current)->id;
    }
    std::string load_problem;
    if (prev && prev->online && prev->planned_source == source) {
      served.online = prev->online;
      served.versions = prev->versions;
      served.planned_source = prev->planned_source;
      served.project = prev->project;
    } else if (source.empty()) {
      load_problem = "its source '" + spec->source + "' has no version: run `sluice ingest`";
    } else {
      auto loaded = engine::OnlineView::Load(*served.project, *spec, lake_, source, plan_db_);
      if (loaded.ok()) {
        served.online = std::shared_ptr<const engine::OnlineView>(std::move(*loaded));
        served.planned_source = source;
        auto versions = std::make_shared<std::map<std::string, std::string>>();
        for (const auto& f : served.online->FeatureNames()) {
          (*versions)[f] = served.online->FeatureVersion(f);
        }
        served.versions = std::move(versions);
      } else {
        load_problem = "cannot load: " + loaded.status().ToString();
        if (prev && prev->online) {
          // Keep serving what was loaded; the problem makes the view not ready.
          served.online = prev->online;
          served.versions = prev->versions;
          served.planned_source = prev->planned_source;
          served.project = prev->project;
        }
      }
    }
    // The store holds another definition than the one planned: `sluice stream` switched the
    // view to a rebuilt generation of its changed definition. Plan what the store now holds from
    // the project's files, so the server follows the switch without a restart.
    std::string switch_problem;
    if (store_problem.empty() && load_problem.empty() && served.online && served.meta &&
        served.meta->definition_hash != served.online->plan().definition_hash) {
      const auto key = std::make_pair(store_name, view_name);
      auto failed = failed_switches_.find(key);
      const std::int64_t now = NowMicros();
      constexpr std::int64_t kRetryFilesMicros = 5'000'000;
      if (failed != failed_switches_.end() &&
          failed->second.definition_hash == served.meta->definition_hash &&
          now - failed->second.at_micros < kRetryFilesMicros) {
        switch_problem = failed->second.why;
      } else {
        std::shared_ptr<const config::ProjectSpec> project;
        std::string why;
        auto online = PlanChangedDefinition(view_name, *served.meta, &project, &why);
        if (online) {
          failed_switches_.erase(key);
          served.online = std::move(online);
          served.project = std::move(project);
          served.planned_source = served.meta->source_version;
          auto versions = std::make_shared<std::map<std::string, std::string>>();
          for (const auto& f : served.online->FeatureNames()) {
            (*versions)[f] = served.online->FeatureVersion(f);
          }
          served.versions = std::move(versions);
          switched.push_back(view_name);
        } else {
          switch_problem = "store '" + store_name + "' holds definition " +
                           served.meta->definition_hash.substr(0, 12) + ", this server planned " +
                           served.online->plan().definition_hash.substr(0, 12) + " and " + why +
                           "; it is served again once the store holds what the project files "
                           "define (`sluice stream` switches a rebuilt streaming view, `sluice "
                           "materialize` rewrites a batch view)";
          failed_switches_[key] = FailedSwitch{served.meta->definition_hash, now, switch_problem};
        }
      }
    }
    if (!store_problem.empty()) {
      served.problem = store_problem;
    } else if (!load_problem.empty()) {
      served.problem = load_problem;
    } else if (!switch_problem.empty()) {
      served.problem = switch_problem;
    } else {
      served.problem = ProblemFor(*served.online, served.meta, view_name, store_name);
    }
    if (!served.online && served.problem.empty()) served.problem = "not loaded";
    next->views.push_back(std::move(served));
  }

  // The catalog: each view's keys and features from its loaded plan.
  next->catalog.default_store = options_.default_store;
  next->catalog.max_entities = options_.max_entities;
  for (const auto& v : project_.feature_views) {
    ViewSchema schema;
    schema.name = v.name;
    const ServedView* with_plan = nullptr;
    std::string why;
    for (const auto& s : next->views) {
      if (s.view != v.name) continue;
      if (s.online) {
        with_plan = &s;
        break;
      }
      why = s.problem;
    }
    if (with_plan == nullptr) {
      schema.unavailable = why.empty() ? "not served" : why;
    } else {
      schema.keys = with_plan->online->plan().entity_keys;
      schema.key_types = with_plan->online->plan().key_types;
      schema.features = with_plan->online->FeatureNames();
    }
    next->catalog.views.push_back(std::move(schema));
  }
  auto services = ResolveServices(project_, next->catalog.views);
  if (!services.ok() && !switched.empty()) {
    // A switched view's new definition lacks a feature a service of the server's project
    // names: the view is not served (the requests it would break are refused as not ready)
    // until the server is restarted with the new project.
    for (auto& schema : next->catalog.views) {
      if (std::find(switched.begin(), switched.end(), schema.name) == switched.end()) continue;
      schema.unavailable = "its new definition breaks a feature service of this server (" +
                           services.status().message() + "): restart `sluice serve`";
      for (auto& s : next->views) {
        if (s.view == schema.name) s.problem = schema.unavailable;
      }
    }
    services = ResolveServices(project_, next->catalog.views);
  }
  if (!services.ok()) return services.status();
  next->catalog.services = std::move(*services);

  std::lock_guard lock(snapshot_mu_);
  snapshot_ = std::move(next);
  return base::Status::Ok();
}

base::Result<std::unique_ptr<warehouse::DuckDb>> FeatureServer::AcquireDb() {
  {
    std::lock_guard lock(db_mu_);
    if (!free_dbs_.empty()) {
      auto db = std::move(free_dbs_.back());
      free_dbs_.pop_back();
      return db;
    }
  }
  // One per concurrent request at most: the pool grows to the number of request threads.
  SLUICE_ASSIGN_OR_RETURN(warehouse::DuckDb db, Connect(root_db_));
  return std::make_unique<warehouse::DuckDb>(std::move(db));
}

void FeatureServer::ReleaseDb(std::unique_ptr<warehouse::DuckDb> db) {
  if (!db) return;
  std::lock_guard lock(db_mu_);
  free_dbs_.push_back(std::move(db));
}

Reply FeatureServer::Error(const base::Status& status) {
  const ApiError e = ClassifyError(status);
  Reply r;
  r.http_status = e.http_status;
  r.error_kind = std::string(e.kind);
  r.body = ErrorBody(e.http_status, e.kind, status.ToString());
  return r;
}

base::Result<bool> FeatureServer::ReadStates(
    const Snapshot& snapshot, const FeatureRequest& request,
    std::vector<std::vector<std::optional<std::string>>>& states,
    std::vector<const ServedView*>& served_views) {
  states.clear();
  served_views.clear();
  for (const auto& lookup : request.lookups) {
    const ServedView* served = snapshot.Find(lookup.store, lookup.view);
    if (served == nullptr) {
      return base::Internal("view '" + lookup.view + "' is not served from store '" + lookup.store +
                            "'");
    }
    if (!served->problem.empty()) {
      return base::FailedPrecondition("feature view '" + lookup.view +
                                      "' is not ready: " + served->problem);
    }
    const auto& handle = snapshot.stores.at(lookup.store);
    const auto started = clock_.Now();
    auto values = handle->MultiGetWithMeta(lookup.view, lookup.entity_keys);
    metrics_.ObserveStore(lookup.store, clock_.Now() - started);
    if (!values.ok()) {
      base::Status s = values.status();
      // Any store failure is the store's, not the request's: 503, retry later.
      if (s.code() != base::StatusCode::kCorruption) {
        s = base::Unavailable("online store '" + lookup.store + "': " + s.ToString());
      }
      return s;
    }
    // The meta read with the values says which definition wrote them; the plan must be that
    // one (a rebuilt generation switched in since the snapshot was built, or the view was
    // deleted: read again with a refreshed snapshot).
    if (!WrittenFor(*served->online, values->meta)) return false;
    states.push_back(std::move(values->values));
    served_views.push_back(served);
  }
  return true;
}

std::shared_ptr<const FeatureServer::Snapshot> FeatureServer::RefreshAfterSwitch(
    const std::shared_ptr<const Snapshot>& seen) {
  std::lock_guard lock(refresh_mu_);
  // Requests that saw the same switch wait here; the first refreshes, the others find the
  // snapshot already replaced.
  if (Current() == seen) (void)RefreshLocked();
  return Current();
}

Reply FeatureServer::Features(std::string_view body) {
  std::shared_ptr<const Snapshot> snapshot = Current();
  std::optional<FeatureRequest> request;
  std::vector<std::vector<std::optional<std::string>>> states;
  std::vector<const ServedView*> served_views;
  std::vector<ViewResult> results;
  std::int64_t t = 0;
  static const std::vector<std::string> kAllFeatures;  // OnlineView::Read: empty = all
  // A switch seen while reading (a head's meta, or a heavy entity's parts read after its head)
  // refreshes the snapshot and answers the whole request again from it; a few tries cover a
  // refresher that built its snapshot just before the switch.
  constexpr int kReadTries = 4;
  for (int attempt = 1;; ++attempt) {
    if (attempt > 1) snapshot = RefreshAfterSwitch(snapshot);
    const bool last_try = attempt == kReadTries;
    auto parsed = ParseFeatureRequest(body, snapshot->catalog);
    if (!parsed.ok()) return Error(parsed.status());
    request = std::move(*parsed);
    auto read = ReadStates(*snapshot, *request, states, served_views);
    if (!read.ok()) return Error(read.status());
    if (!*read) {
      if (last_try) return Error(SwitchedWhileRead(request->lookups.front().view));
      continue;
    }
    t = request->at ? *request->at : NowMicros();
    results.clear();
    results.reserve(request->lookups.size());

    auto lease_db = AcquireDb();
    if (!lease_db.ok()) return Error(lease_db.status());
    DbLease lease(this, std::move(*lease_db));
    bool switched = false;
    for (std::size_t l = 0; l < request->lookups.size() && !switched; ++l) {
      const auto& lookup = request->lookups[l];
      const ServedView& served = *served_views[l];
      ViewResult result;
      result.view = lookup.view;
      result.versions = served.versions.get();
      result.entities.reserve(lookup.entity_keys.size());
      std::uint64_t counts[3] = {0, 0, 0};
      for (std::size_t e = 0; e < lookup.entity_keys.size(); ++e) {
        const auto& state = states[l][e];
        // A heavy entity's state is a head and parts: the parts a window edge needs are read
        // here, after the head (docs/online.md).
        const auto& handle = snapshot->stores.at(lookup.store);
        // Parts are read with the meta too: a head of one generation never meets parts of
        // another (a switch between the two reads answers the request again).
        auto parts = [&](const std::vector<store::PartKey>& keys)
            -> base::Result<std::vector<std::optional<std::string>>> {
          SLUICE_ASSIGN_OR_RETURN(store::ViewValues got,
                                  handle->MultiGetPartsWithMeta(lookup.view, keys));
          if (!WrittenFor(*served.online, got.meta)) {
            switched = true;
            return SwitchedWhileRead(lookup.view);
          }
          return std::move(got.values);
        };
        const auto& wanted = lookup.all_features ? kAllFeatures : lookup.features;
        auto features =
            served.online->Read(state ? std::optional<std::string_view>(*state) : std::nullopt, t,
                                wanted, lease.db(), lookup.entity_keys[e], parts);
        if (!features.ok() && features.status().code() == base::StatusCode::kUnavailable && state &&
            !switched) {
          // A part named by the head was removed by an update since the head was read: read
          // this entity's head again, once.
          auto again = handle->MultiGetWithMeta(lookup.view, {lookup.entity_keys[e]});
          if (again.ok() && again->values.size() == 1 && WrittenFor(*served.online, again->meta)) {
            const auto& fresh = again->values[0];
            features =
                served.online->Read(fresh ? std::optional<std::string_view>(*fresh) : std::nullopt,
                                    t, wanted, lease.db(), lookup.entity_keys[e], parts);
          } else if (again.ok() && !WrittenFor(*served.online, again->meta)) {
            switched = true;
          }
        }
        if (switched && !last_try) break;
        if (!features.ok()) {
          return Error(features.status().WithContext("entity " + std::to_string(e) + " " +
                                                     request->entity_json[e] + ", view '" +
                                                     lookup.view + "'"));
        }
        for (const auto& f : *features)
          ++counts[static_cast<int>(f.status)];
        result.entities.push_back(std::move(*features));
      }
      if (switched) break;
      metrics_.CountFeatures(lookup.view, counts[static_cast<int>(engine::FeatureStatus::kPresent)],
                             counts[static_cast<int>(engine::FeatureStatus::kMissing)],
                             counts[static_cast<int>(engine::FeatureStatus::kExpired)]);
      results.push_back(std::move(result));
    }
    if (!switched) break;
    if (last_try) return Error(SwitchedWhileRead(request->lookups.front().view));
  }
  Reply reply;
  if (options_.log == nullptr || !options_.log->Sample()) {
    reply.body = RenderFeatureResponse(*request, t, results);
    return reply;
  }
  // The log copies the features' names and values from the response rather than rendering
  // them again.
  thread_local std::vector<FeatureSpans> feature_spans;
  thread_local std::vector<ServedLookup> logged;
  feature_spans.clear();
  logged.clear();
  reply.body = RenderFeatureResponse(*request, t, results, &feature_spans);
  for (std::size_t l = 0; l < results.size(); ++l) {
    const ServedView& served = *served_views[l];
    logged.push_back(ServedLookup{results[l].view, served.planned_source,
                                  served.online->plan().definition_hash, &results[l].entities});
  }
  const RenderedValues values{reply.body, &feature_spans};
  options_.log->Submit(NowMicros(), t, request->entity_json, logged, &values);
  return reply;
}

Reply FeatureServer::Ready() {
  base::Status refreshed = Refresh();
  const auto snapshot = Current();
  bool ready = refreshed.ok();
  std::string views = "[";
  for (std::size_t i = 0; i < snapshot->views.size(); ++i) {
    const ServedView& v = snapshot->views[i];
    ready = ready && v.problem.empty();
    if (i) views += ',';
    views += "{\"view\":";
    AppendJsonString(views, v.view);
    views += ",\"store\":";
    AppendJsonString(views, v.store);
    views += ",\"ready\":";
    views += v.problem.empty() ? "true" : "false";
    if (v.meta) {
      views += ",\"source_version\":";
      AppendJsonString(views, v.meta->source_version);
      views += ",\"definition\":";
      AppendJsonString(views, v.meta->definition_hash.substr(0, 12));
      views += ",\"entities\":" + std::to_string(v.meta->entities);
      views += ",\"newest_event\":";
      AppendJsonString(views, base::FormatTimestampMicros(v.meta->newest_event_micros));
      views += ",\"materialized_at\":";
      AppendJsonString(views, v.meta->materialized_at);
    }
    if (!v.problem.empty()) {
      views += ",\"problem\":";
      AppendJsonString(views, v.problem);
    }
    views += '}';
  }
  views += ']';
  Reply r;
  r.http_status = ready ? 200 : 503;
  if (!ready) r.error_kind = "not_ready";
  r.body = std::string("{\"ready\":") + (ready ? "true" : "false") + ",\"views\":" + views;
  if (!refreshed.ok()) {
    r.body += ",\"problem\":";
    AppendJsonString(r.body, refreshed.ToString());
  }
  r.body += "}\n";
  return r;
}

std::string FeatureServer::GaugesText() const {
  const auto snapshot = Current();
  const std::int64_t now = NowMicros();
  std::string out;
  auto labels = [](const ServedView& v) {
    return "{view=\"" + PromLabelValue(v.view) + "\",store=\"" + PromLabelValue(v.store) + "\"}";
  };
  out +=
      "# HELP sluice_serve_view_freshness_seconds Age of the newest event behind the served "
      "values (now - newest event time), by view.\n"
      "# TYPE sluice_serve_view_freshness_seconds gauge\n";
  for (const auto& v : snapshot->views) {
    if (!v.meta) continue;
    out += "sluice_serve_view_freshness_seconds" + labels(v) + " " +
           Seconds(now - v.meta->newest_event_micros) + "\n";
  }
  out +=
      "# HELP sluice_serve_view_ingest_latency_seconds Ingestion-to-servable latency of the "
      "newest data behind the served values (store write - source version created, or - newest "
      "event for streamed views), by view.\n"
      "# TYPE sluice_serve_view_ingest_latency_seconds gauge\n";
  struct SloLine {
    const ServedView* view;
    const char* slo;
    double limit;
    double value;
  };
  std::vector<SloLine> slo_lines;
  for (const auto& v : snapshot->views) {
    if (!v.meta) continue;
    const config::ProjectSpec& project = v.project ? *v.project : project_;
    const config::FeatureViewSpec* spec = project.FindFeatureView(v.view);
    if (spec == nullptr) continue;
    const engine::ViewFreshness f =
        engine::MeasureFreshness(project, *spec, *v.meta, v.source_created_at, now);
    if (f.ingest_latency_micros) {
      out += "sluice_serve_view_ingest_latency_seconds" + labels(v) + " " +
             Seconds(*f.ingest_latency_micros) + "\n";
    }
    for (const auto& slo : project_.monitoring.freshness) {
      if (slo.view != v.view) continue;
      if (slo.max_event_age) {
        slo_lines.push_back({&v, "event_age", static_cast<double>(slo.max_event_age->count()),
                             static_cast<double>(f.event_age_micros)});
      }
      if (slo.max_ingest_latency && f.ingest_latency_micros) {
        slo_lines.push_back({&v, "ingest_latency",
                             static_cast<double>(slo.max_ingest_latency->count()),
                             static_cast<double>(*f.ingest_latency_micros)});
      }
    }
  }
  auto slo_labels = [](const SloLine& l) {
    return "{view=\"" + PromLabelValue(l.view->view) + "\",store=\"" +
           PromLabelValue(l.view->store) + "\",slo=\"" + l.slo + "\"}";
  };
  out +=
      "# HELP sluice_serve_view_freshness_slo_seconds Declared freshness SLO "
      "(monitoring.freshness): the maximum event age or ingestion-to-servable latency.\n"
      "# TYPE sluice_serve_view_freshness_slo_seconds gauge\n";
  for (const auto& l : slo_lines) {
    out += "sluice_serve_view_freshness_slo_seconds" + slo_labels(l) + " " +
           Seconds(static_cast<std::int64_t>(l.limit)) + "\n";
  }
  out +=
      "# HELP sluice_serve_view_freshness_slo_violated 1 while the view's measured freshness "
      "exceeds its SLO, else 0.\n"
      "# TYPE sluice_serve_view_freshness_slo_violated gauge\n";
  for (const auto& l : slo_lines) {
    out += "sluice_serve_view_freshness_slo_violated" + slo_labels(l) +
           (l.value > l.limit ? " 1\n" : " 0\n");
  }
  out +=
      "# HELP sluice_serve_view_entities Entities the store holds for the view.\n"
      "# TYPE sluice_serve_view_entities gauge\n";
  for (const auto& v : snapshot->views) {
    if (!v.meta) continue;
    out += "sluice_serve_view_entities" + labels(v) + " " + std::to_string(v.meta->entities) + "\n";
  }
  out +=
      "# HELP sluice_serve_view_ready 1 when the view is served (materialized with the "
      "loaded definition, store reachable), else 0.\n"
      "# TYPE sluice_serve_view_ready gauge\n";
  for (const auto& v : snapshot->views) {
    out += "sluice_serve_view_ready" + labels(v) + " " + (v.problem.empty() ? "1" : "0") + "\n";
  }
  if (options_.log != nullptr) out += options_.log->MetricsText();
  return out;
}

std::vector<ServedViewFreshness> FeatureServer::Freshness() const {
  const auto snapshot = Current();
  const std::int64_t now = NowMicros();
  std::vector<ServedViewFreshness> out;
  for (const auto& v : snapshot->views) {
    // The definition the view is served with (switched views: the project files read again).
    const config::ProjectSpec& project = v.project ? *v.project : project_;
    const config::FeatureViewSpec* spec = project.FindFeatureView(v.view);
    if (!v.meta || spec == nullptr) continue;
    out.push_back(ServedViewFreshness{
        v.view, v.store, *v.meta,
        engine::MeasureFreshness(project, *spec, *v.meta, v.source_created_at, now)});
  }
  return out;
}

void FeatureServer::StartRefresher(std::chrono::milliseconds interval) {
  StopRefresher();
  {
    std::lock_guard lock(refresher_mu_);
    refresher_stop_ = false;
  }
  refresher_ = std::thread([this, interval] {
    std::unique_lock lock(refresher_mu_);
    while (!refresher_cv_.wait_for(lock, interval, [this] { return refresher_stop_; })) {
      lock.unlock();
      // Problems are reported per view by Ready and the gauges; nothing to do with it here.
      (void)Refresh();
      lock.lock();
    }
  });
}

void FeatureServer::StopRefresher() {
  {
    std::lock_guard lock(refresher_mu_);
    refresher_stop_ = true;
  }
  refresher_cv_.notify_all();
  if (refresher_.joinable()) refresher_.join();
}

}  // namespace sluice::serve
