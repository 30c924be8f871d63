// `sluice materialize` and `sluice get`: the engine's per-entity state into the online store,
// and one online look-up from the command line.
#include <cstdio>

#include "base/clock.h"
#include "base/kill_point.h"
#include "base/log.h"
#include "base/scalar_text.h"
#include "cli/commands.h"
#include "cli/exit_code.h"
#include "cli/progress_meter.h"
#include "cli/project_context.h"
#include "engine/materialization.h"
#include "engine/online_view.h"
#include "serve/catalog.h"
#include "serve/json_writer.h"
#include "store/online_store.h"
#include "types/column.h"
#include "warehouse/duckdb_database.h"

namespace sluice::cli {

// Store choice and JSON rendering are shared with `sluice serve` (src/serve), so the command
// line and the server print values the same way.
using serve::ChooseOnlineStore;
using serve::JsonEscape;
using serve::JsonValue;

int RunMaterialize(const MaterializeOptions& options) {
  int code = kExitOk;
  auto project = OpenProject(options.project, &code);
  if (!project) return code;
  auto store_spec = ChooseOnlineStore(project->spec, options.store);
  if (!store_spec.ok()) return ReportFailure(store_spec.status());
  std::vector<const config::FeatureViewSpec*> views;
  // A view over a kafka source is a streaming view: `sluice stream` owns its online state.
  auto streaming = [&](const config::FeatureViewSpec& v) {
    const config::SourceSpec* s = project->spec.FindSource(v.source);
    return s != nullptr && s->type == config::SourceType::kKafka;
  };
  if (options.views.empty()) {
    for (const auto& v : project->spec.feature_views) {
      if (streaming(v)) {
        std::printf(
            "%-16s skipped: a streaming view (kafka source '%s'); `sluice stream` keeps "
            "it online\n",
            v.name.c_str(), v.source.c_str());
        continue;
      }
      views.push_back(&v);
    }
  } else {
    for (const auto& name : options.views) {
      const auto* v = project->spec.FindFeatureView(name);
      if (v == nullptr)
        return ReportFailure(base::InvalidArgument("no feature view '" + name + "'"));
      if (streaming(*v)) {
        return ReportFailure(base::InvalidArgument(
            "feature view '" + name + "' is a streaming view (it reads kafka source '" + v->source +
            "'): `sluice stream " + name +
            "` keeps it online; its training sets read the stream's archive in the lake"));
      }
      views.push_back(v);
    }
  }
  auto& clock = base::SystemClock::Instance();
  auto store = store::OpenOnlineStore(**store_spec, project->spec.dir, /*read_only=*/false);
  if (!store.ok()) {
    // A run that could not start is still a run: the registry says why it failed.
    for (const auto* view : views) {
      RecordFailedRun(*project->registry, "materialize", view->name, store.status());
    }
    return ReportFailure(store.status());
  }
  int failures = 0;
  for (const auto* view : views) {
    const auto started = clock.Now();
    auto run = project->registry->BeginRun("materialize", view->name, base::FormatTime(started));
    auto finish = [&](const std::string& status, const std::string& error,
                      const std::string& version, std::int64_t rows) {
      if (!run.ok()) return;
      registry::RunRecord r;
      r.id = *run;
      r.status = status;
      r.error = error;
      r.finished_at = base::FormatTime(clock.Now());
      r.duration_seconds = std::chrono::duration<double>(clock.Now() - started).count();
      r.rows_read = r.rows_loaded = rows;
      r.output_version = version;
      (void)project->registry->FinishRun(r);
    };
    auto meta = (*store)->Meta(view->name);
    if (!meta.ok()) {
      finish("failed", meta.status().ToString(), "", 0);
      ReportFailure(meta.status().WithContext("materialize '" + view->name + "'"));
      ++failures;
      continue;
    }
    std::optional<engine::StoredView> stored;
    if (*meta) {
      stored = engine::StoredView{(*meta)->source_version, (*meta)->definition_hash,
                                  (*meta)->newest_event_micros, (*meta)->entities,
                                  (*meta)->encoding_version};
    }
    const std::string view_name = view->name;
    auto lookup = [&](const std::vector<std::string>& entities) {
      return (*store)->MultiGet(view_name, entities);
    };
    auto parts = [&](const std::vector<store::PartKey>& keys) {
      return (*store)->MultiGetParts(view_name, keys);
    };
    auto m = engine::Materialize(project->spec, *view, *project->lake, options.threads, stored,
                                 lookup, parts, options.force);
    if (!m.ok()) {
      finish("failed", m.status().ToString(), "", 0);
      ReportFailure(m.status().WithContext("materialize '" + view->name + "'"));
      ++failures;
      continue;
    }
    const engine::Materialized& r = m->result;
    if (m->mode == engine::MaterializeMode::kUnchanged) {
      std::printf("%-16s unchanged   source %s, %lld entities in %s\n", view->name.c_str(),
                  r.source.id.substr(0, 12).c_str(), static_cast<long long>(m->entities),
                  (*store)->Describe().c_str());
      finish("unchanged", "", r.source.id, 0);
      continue;
    }
    store::ViewMeta vm;
    vm.source_version = r.source.id;
    vm.definition_hash = r.plan.definition_hash;
    vm.newest_event_micros = r.newest_event;
    vm.entities = m->entities;
    vm.materialized_at = base::FormatTime(clock.Now());
    vm.encoding_version = engine::kStateEncoding;
    // One write per view: a reader sees the previous materialization or this one per entity.
    // A full replay holds every entity the source still has, so the others are removed.
    base::Status written =
        (*store)->WriteState(view->name, r.states.heads, r.states.parts, vm, {},
                             /*replace=*/m->mode == engine::MaterializeMode::kFull);
    if (!written.ok()) {
      finish("failed", written.ToString(), "", 0);
      ReportFailure(written.WithContext("materialize '" + view->name + "'"));
      ++failures;
      continue;
    }
    base::KillPoint("materialize.before_run_record");
    // Lineage (sluice lineage): the source version -> this view in this online store.
    if (run.ok()) {
      const std::string node = "online_store:" + (*store_spec)->name + "/" + view->name;
      if (base::Status l = project->registry->AddLineage({{r.source.id, node, *run}}); !l.ok())
        base::LogWarn("could not record the lineage of '" + view->name + "': " + l.ToString());
    }
    const double secs = std::chrono::duration<double>(clock.Now() - started).count();
    const auto rate = [&](std::size_t n) { return secs > 0 ? static_cast<double>(n) / secs : 0.0; };
    if (m->mode == engine::MaterializeMode::kIncremental) {
      std::printf(
          "%-16s updated %lld entities (%lld new) with %lld new events from %s (after %s, "
          "newest %s) in %s in %.1fs (%.0f entities/s)\n",
          view->name.c_str(), static_cast<long long>(r.states.heads.size()),
          static_cast<long long>(m->new_entities), static_cast<long long>(r.counts.events),
          r.source.id.substr(0, 12).c_str(), m->previous.substr(0, 12).c_str(),
          base::FormatTimestampMicros(r.newest_event).c_str(), (*store)->Describe().c_str(), secs,
          rate(r.states.heads.size()));
    } else {
      if (!m->why.empty()) {
        std::printf("%-16s full replay: %s\n", view->name.c_str(), m->why.c_str());
      }
      std::printf(
          "%-16s materialized %lld entities from %s (%lld events, newest %s) into %s in "
          "%.1fs (%.0f entities/s)\n",
          view->name.c_str(), static_cast<long long>(vm.entities),
          r.source.id.substr(0, 12).c_str(), static_cast<long long>(r.counts.events),
          base::FormatTimestampMicros(r.newest_event).c_str(), (*store)->Describe().c_str(), secs,
          rate(r.states.heads.size()));
    }
    finish("succeeded", "", r.source.id, static_cast<std::int64_t>(r.states.heads.size()));
  }
  return failures == 0 ? kExitOk : kExitRuntimeFailure;
}

int RunGet(const GetOptions& options) {
  int code = kExitOk;
  auto project = OpenProject(options.project, &code);
  if (!project) return code;
  const auto* view = project->spec.FindFeatureView(options.view);
  if (view == nullptr)
    return ReportFailure(base::InvalidArgument("no feature view '" + options.view + "'"));
  auto store_spec = ChooseOnlineStore(project->spec, options.store);
  if (!store_spec.ok()) return ReportFailure(store_spec.status());
  auto store = store::OpenOnlineStore(**store_spec, project->spec.dir, /*read_only=*/true);
  if (!store.ok()) return ReportFailure(store.status());
  auto meta = (*store)->Meta(view->name);
  if (!meta.ok()) return ReportFailure(meta.status());
  // `sluice stream` owns a streaming view's state (and rebuilds it after a definition change);
  // materialize refuses such a view, so the hint must name the verb that helps.
  const config::SourceSpec* view_source = project->spec.FindSource(view->source);
  const std::string remedy =
      view_source != nullptr && view_source->type == config::SourceType::kKafka
          ? "run `sluice stream` (a streaming view: it rebuilds the view and switches readers "
            "once caught up)"
          : "run `sluice materialize " + view->name + "`";
  if (!*meta) {
    return ReportFailure(base::FailedPrecondition("feature view '" + view->name +
                                                  "' is not materialized: " + remedy));
  }
  std::int64_t t = base::SystemClock::Instance().Now().time_since_epoch().count();
  if (!options.at.empty()) {
    auto parsed = base::ParseTimestampMicros(options.at);
    if (!parsed.ok()) return ReportFailure(parsed.status().WithContext("--at"));
    t = *parsed;
  }
  // The session every feature-SQL connection has (UTC): derived features read as they do in
  // training sets and the server.
  auto db = warehouse::OpenFeatureSqlDb();
  if (!db.ok()) return ReportFailure(db.status());
  auto online =
      engine::OnlineView::Load(project->spec, *view, *project->lake, (*meta)->source_version, *db);
  if (!online.ok()) return ReportFailure(online.status());
  if ((*online)->plan().definition_hash != (*meta)->definition_hash) {
    return ReportFailure(base::FailedPrecondition(
        "feature view '" + view->name + "' changed since it was materialized: " + remedy));
  }
  // Composite keys are given as "a,b" in key order.
  std::vector<std::string> key_values;
  std::string rest = options.key;
  for (size_t pos; (pos = rest.find(',')) != std::string::npos; rest = rest.substr(pos + 1)) {
    key_values.push_back(rest.substr(0, pos));
  }
  key_values.push_back(rest);
  if (key_values.size() != (*online)->plan().entity_keys.size()) {
    return ReportFailure(base::InvalidArgument(
        "feature view '" + view->name + "' is keyed by " +
        std::to_string((*online)->plan().entity_keys.size()) + " column(s); got " +
        std::to_string(key_values.size()) + " value(s) in '" + options.key + "'"));
  }
  for (size_t i = 0; i < key_values.size(); ++i) {
    if ((*online)->plan().key_types[i] != types::LogicalType::kInt64) continue;
    // The canonical text the state is keyed by; "abc" or a number past 64 bits is an error.
    auto n = base::ParseInt64(key_values[i]);
    if (!n.ok()) {
      return ReportFailure(base::InvalidArgument("key column '" + (*online)->plan().entity_keys[i] +
                                                 "' is int64: " + n.status().message()));
    }
    key_values[i] = std::to_string(*n);
  }
  const std::string entity = engine::EntityKeyBytes(key_values);
  auto values = (*store)->MultiGet(view->name, {entity});
  if (!values.ok()) return ReportFailure(values.status());
  const auto& state = (*values)[0];
  auto parts = [&](const std::vector<store::PartKey>& keys) {
    return (*store)->MultiGetParts(view->name, keys);
  };
  auto features = (*online)->Read(state ? std::optional<std::string_view>(*state) : std::nullopt, t,
                                  options.features, *db, entity, parts);
  if (!features.ok() && features.status().code() == base::StatusCode::kUnavailable && state) {
    // A part the head names was removed by a writer since the head was read: read it again.
    values = (*store)->MultiGet(view->name, {entity});
    if (!values.ok()) return ReportFailure(values.status());
    const auto& fresh = (*values)[0];
    features = (*online)->Read(fresh ? std::optional<std::string_view>(*fresh) : std::nullopt, t,
                               options.features, *db, entity, parts);
  }
  if (!features.ok()) return ReportFailure(features.status());
  std::printf("{\"view\":\"%s\",\"key\":\"%s\",\"at\":\"%s\",\"features\":{",
              JsonEscape(view->name).c_str(), JsonEscape(options.key).c_str(),
              base::FormatTimestampMicros(t).c_str());
  for (size_t i = 0; i < features->size(); ++i) {
    const auto& f = (*features)[i];
    std::printf("%s\"%s\":{\"value\":%s,\"status\":\"%s\",\"version\":\"%s\"}", i ? "," : "",
                JsonEscape(f.name).c_str(), JsonValue(f.value).c_str(),
                std::string(engine::StatusName(f.status)).c_str(),
                (*online)->FeatureVersion(f.name.substr(0, f.name.find('='))).c_str());
  }
  std::printf("}}\n");
  return kExitOk;
}

}  // namespace sluice::cli
