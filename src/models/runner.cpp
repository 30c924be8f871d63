#include "models/runner.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "base/build_version.h"
#include "base/kill_point.h"
#include "base/log.h"
#include "lake/content_hash.h"
#include "lake/staging_dir.h"
#include "warehouse/duckdb_database.h"

namespace sluice::models {
namespace {

namespace fs = std::filesystem;
using config::Materialization;
using warehouse::RelationKind;
using warehouse::SqlPosition;

constexpr int kMaxDefaultJobs = 4;
// How many past runs of a view are searched for its last successful build.
constexpr int kRunHistoryLimit = 50;

std::string Join(const std::vector<std::string>& v, const std::string& sep) {
  std::string out;
  for (const auto& s : v)
    out += (out.empty() ? "" : sep) + s;
  return out;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    std::size_t end = s.find(sep, start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

double Seconds(base::ProcessingTime from, base::ProcessingTime to) {
  return std::chrono::duration<double>(to - from).count();
}

// What downstream models need to know about a model: its lake version (tables) and the input
// versions it was built from (views pass theirs on, so lineage skips no dataset).
struct ModelState {
  std::string version;
  std::vector<std::string> parents;
};

// The run of one command over a set of models.
class Run {
 public:
  Run(const ModelGraph& graph, const ModelsContext& ctx, const TemplateValues& values)
      : graph_(graph), ctx_(ctx), values_(values) {}

  base::Status Prepare(const std::vector<std::string>& selected, bool for_tests);
  base::Result<BuildReport> Build(const std::vector<std::string>& selected,
                                  const BuildOptions& options);
  base::Result<BuildReport> Test(const std::vector<std::string>& selected,
                                 const std::function<void(const ModelOutcome&)>& on_done);

 private:
  struct Task {
    const Model* model = nullptr;
    std::vector<std::string> parents;
    std::string definition_hash;
    std::string last_view_key;
    bool full_refresh = false;
    bool uses_values = false;
  };

  std::vector<std::string> ParentsOf(const Model& m) const;
  Resolver MakeResolver(warehouse::Warehouse& session, const Model& m) const;
  ModelOutcome BuildOne(warehouse::Warehouse& session, const Task& task) const;
  base::Status Materialize(warehouse::Warehouse& session, const Task& task, const RenderedSql& sql,
                           RelationKind existing, const std::optional<lake::Manifest>& current,
                           ModelOutcome& out) const;
  std::string SqlError(const Model& m, const RenderedSql& sql, const base::Status& status,
                       const std::optional<SqlPosition>& where, int lines_before) const;
  std::optional<std::string> LastViewKey(const std::string& model) const;
  void Record(ModelOutcome& outcome, const std::string& kind, base::ProcessingTime started) const;

  const ModelGraph& graph_;
  const ModelsContext& ctx_;
  const TemplateValues& values_;
  std::optional<lake::StagingDir> scratch_;
  std::map<std::string, lake::Manifest> source_versions_;
  std::map<std::string, std::string> source_relations_;
  std::map<std::string, ModelState> states_;  // models outside the selection that are read
};

std::optional<std::string> Run::LastViewKey(const std::string& model) const {
  auto runs = ctx_.registry.Runs(model, kRunHistoryLimit);
  if (!runs.ok()) return std::nullopt;
  for (const auto& r : *runs) {
    if (r.kind == "build" && (r.status == "succeeded" || r.status == "unchanged")) {
      return r.output_version;
    }
  }
  return std::nullopt;
}

base::Status Run::Prepare(const std::vector<std::string>& selected, bool for_tests) {
  // Every value a selected model or its tests use must be given, before anything is touched.
  std::string missing;
  for (const auto& name : selected) {
    const Model& m = *graph_.Find(name);
    std::vector<const Template*> templates;
    if (!for_tests) templates.push_back(&m.sql);
    for (const auto& t : m.test_sql)
      templates.push_back(&t);
    for (const Template* t : templates) {
      for (const auto& line : MissingValues(*t, values_))
        missing += (missing.empty() ? "" : "\n") + line;
    }
  }
  if (!missing.empty()) return base::InvalidArgument(missing);
  SLUICE_ASSIGN_OR_RETURN(lake::StagingDir scratch, lake::StagingDir::Create(ctx_.lake.root()));
  scratch_.emplace(std::move(scratch));
  const std::set<std::string> chosen(selected.begin(), selected.end());

  // Sources first: every one a selected model or its tests read, at its current version.
  std::map<std::string, std::string> needed;  // source -> a model that reads it
  for (const auto& name : selected) {
    const Model& m = *graph_.Find(name);
    if (!for_tests) {
      for (const auto& s : m.sources)
        needed.emplace(s, m.name);
    }
    for (const auto& s : m.test_sources)
      needed.emplace(s, m.name);
  }
  for (const auto& [source, reader] : needed) {
    SLUICE_ASSIGN_OR_RETURN(std::optional<lake::Manifest> current, ctx_.lake.Current(source));
    if (!current) {
      return base::FailedPrecondition("model '" + reader + "' reads source '" + source +
                                      "', which has no version in the lake yet; run `sluice "
                                      "ingest " +
                                      source + "` first");
    }
    std::vector<fs::path> parts;
    for (const auto& out : current->outputs) {
      if (out.name == "data") parts.push_back(ctx_.lake.ObjectPath(out.sha256));
    }
    const std::string relation = SourceRelationName(*current);
    auto attached =
        ctx_.warehouse.AttachParquet(relation, parts, current->schema, scratch_->path());
    if (!attached.ok()) {
      return attached.status().WithContext("exposing source '" + source + "' version " +
                                           current->id.substr(0, 12) + " in the warehouse");
    }
    if (*attached) {
      base::LogInfo("loaded source '" + source + "' version " + current->id.substr(0, 12) +
                    " into the warehouse as " + relation);
      // Earlier versions' copies are dead weight once the new one is in (PostgreSQL keeps a
      // full table per version); a failure here costs space, not correctness.
      auto dropped = ctx_.warehouse.DropOtherVersions(SourceRelationPrefix(source), relation);
      if (!dropped.ok()) {
        base::LogWarn("could not drop older copies of source '" + source +
                      "': " + dropped.status().ToString());
      } else if (*dropped > 0) {
        base::LogInfo("dropped " + std::to_string(*dropped) + " older copies of source '" + source +
                      "' from the warehouse");
      }
    }
    source_relations_[source] = relation;
    source_versions_.emplace(source, std::move(current).value());
  }
  if (for_tests) return base::Status::Ok();

  // Models read but not selected must exist as they were last built.
  std::set<std::string> upstream;
  for (const auto& name : selected) {
    for (const auto& d : graph_.Find(name)->depends_on) {
      if (!chosen.count(d)) upstream.insert(d);
    }
  }
  for (const auto& m : graph_.models()) {
    if (!upstream.count(m.name)) continue;
    SLUICE_ASSIGN_OR_RETURN(RelationKind kind, ctx_.warehouse.Relation(m.name));
    std::string reader;
    for (const auto& name : selected) {
      const auto& deps = graph_.Find(name)->depends_on;
      if (std::find(deps.begin(), deps.end(), m.name) != deps.end()) {
        reader = name;
        break;
      }
    }
    if (kind == RelationKind::kNone) {
      return base::FailedPrecondition(
          "model '" + reader + "' reads model '" + m.name + "', which has not been built in " +
          ctx_.warehouse.Describe() + "; build both with `sluice build +" + reader + "`");
    }
    ModelState state;
    if (m.config.materialized == Materialization::kView) {
      // A view holds no rows: what it was built from is in the registry.
      auto runs = ctx_.registry.Runs(m.name, kRunHistoryLimit);
      if (runs.ok()) {
        for (const auto& r : *runs) {
          if (r.kind == "build" && (r.status == "succeeded" || r.status == "unchanged")) {
            state.parents = Split(r.inputs, ',');
            break;
          }
        }
      }
    } else {
      SLUICE_ASSIGN_OR_RETURN(std::optional<lake::Manifest> current, ctx_.lake.Current(m.name));
      if (current) state.version = current->id;
    }
    states_[m.name] = std::move(state);
  }
  return base::Status::Ok();
}

std::vector<std::string> Run::ParentsOf(const Model& m) const {
  std::set<std::string> parents;
  for (const auto& s : m.sources) {
    auto it = source_versions_.find(s);
    if (it != source_versions_.end()) parents.insert(it->second.id);
  }
  for (const auto& r : m.refs) {
    auto it = states_.find(r);
    if (it == states_.end()) continue;
    if (graph_.Find(r)->config.materialized == Materialization::kView) {
      parents.insert(it->second.parents.begin(), it->second.parents.end());
    } else if (!it->second.version.empty()) {
      parents.insert(it->second.version);
    }
  }
  return {parents.begin(), parents.end()};
}

Resolver Run::MakeResolver(warehouse::Warehouse& session, const Model& m) const {
  return [this, &session, &m](const TemplateRef& ref) -> std::string {
    switch (ref.kind) {
      case RefKind::kSource: {
        auto it = source_relations_.find(ref.name);
        return it == source_relations_.end() ? "" : session.RelationSql(it->second);
      }
      case RefKind::kRef:
        return graph_.Find(ref.name) == nullptr ? "" : session.RelationSql(ref.name);
      case RefKind::kThis:
        return session.RelationSql(m.name);
      case RefKind::kIntervalStart:
      case RefKind::kIntervalEnd:
      case RefKind::kVar:
        // Prepare() checked that every value used is given.
        return ValueLiteral(ref, values_, session.Kind()).value_or("NULL");
    }
    return "";
  };
}

std::string Run::SqlError(const Model& m, const RenderedSql& sql, const base::Status& status,
                          const std::optional<SqlPosition>& where, int lines_before) const {
  std::string message = status.message();
  if (!where || where->line <= lines_before) {
    return m.file + ": model '" + m.name + "': " + message;
  }
  const SqlPosition in_sql{where->line - lines_before, where->column};
  const SqlPosition at = sql.ToTemplate(in_sql);
  return m.file + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) + ": model '" +
         m.name + "': " + message + "\n" + Excerpt(m.sql.text, at);
}

base::Status Run::Materialize(warehouse::Warehouse& session, const Task& task,
                              const RenderedSql& sql, RelationKind existing,
                              const std::optional<lake::Manifest>& current,
                              ModelOutcome& out) const {
  const Model& m = *task.model;
  const std::string relation = session.RelationSql(m.name);
  std::optional<SqlPosition> where;
  auto fail = [&](const base::Status& s, int lines_before) {
    return base::InvalidArgument(SqlError(m, sql, s, where, lines_before));
  };

  const bool incremental = m.config.materialized == Materialization::kIncremental &&
                           !task.full_refresh && existing == RelationKind::kTable && current &&
                           current->definition_hash == task.definition_hash;
  if (incremental) {
    const std::string cursor = warehouse::QuoteIdentifier(m.config.cursor.value_or(""));
    const std::string max = "(SELECT max(" + cursor + ") FROM " + relation + ")";
    // One line before the model's SQL, for error positions.
    base::Status s = session.Execute("CREATE TEMP TABLE sluice_increment AS SELECT * FROM (\n" +
                                         sql.sql() + "\n) AS sluice_model WHERE " + max +
                                         " IS NULL OR sluice_model." + cursor + " > " + max,
                                     &where);
    if (!s.ok()) return fail(s, 1);
    SLUICE_ASSIGN_OR_RETURN(out.new_rows,
                            session.QueryInt64("SELECT count(*) FROM sluice_increment"));
    if (!m.config.unique_key.empty()) {
      std::vector<std::string> match;
      for (const auto& k : m.config.unique_key) {
        const std::string q = warehouse::QuoteIdentifier(k);
        match.push_back("sluice_new." + q + " = sluice_old." + q);
      }
      SLUICE_RETURN_IF_ERROR(session.Execute(
          "DELETE FROM " + relation +
          " AS sluice_old WHERE EXISTS (SELECT 1 FROM sluice_increment AS sluice_new WHERE " +
          Join(match, " AND ") + ")"));
    }
    SLUICE_RETURN_IF_ERROR(session.Execute("INSERT INTO " + relation +
                                           " SELECT * FROM sluice_increment; DROP TABLE "
                                           "sluice_increment"));
    return base::Status::Ok();
  }

  if (existing != RelationKind::kNone) SLUICE_RETURN_IF_ERROR(session.Drop(m.name));
  const std::string create =
      m.config.materialized == Materialization::kView ? "CREATE VIEW " : "CREATE TABLE ";
  base::Status s = session.Execute(create + relation + " AS\n" + sql.sql(), &where);
  if (!s.ok()) return fail(s, 1);
  return base::Status::Ok();
}

ModelOutcome Run::BuildOne(warehouse::Warehouse& session, const Task& task) const {
  const Model& m = *task.model;
  const auto started = ctx_.clock.Now();
  ModelOutcome out;
  out.model = m.name;
  out.file = m.file;
  out.materialized = m.config.materialized;
  out.parents = task.parents;
  const bool is_view = m.config.materialized == Materialization::kView;
  auto finish = [&](ModelStatus status) {
    out.status = status;
    out.seconds = Seconds(started, ctx_.clock.Now());
    return out;
  };
  auto failed = [&](const base::Status& s) {
    out.error = s.ToString();
    return finish(ModelStatus::kFailed);
  };

  auto existing = session.Relation(m.name);
  if (!existing.ok()) return failed(existing.status());
  std::optional<lake::Manifest> current;
  if (!is_view) {
    auto c = ctx_.lake.Current(m.name);
    if (!c.ok()) return failed(c.status());
    current = std::move(c).value();
  }
  const std::string view_key =
      lake::Sha256Hex(task.definition_hash + "\n" + Join(task.parents, "\n"));

  // Nothing to do when the relation is there and was built from the same inputs and SQL.
  if (!task.full_refresh) {
    if (is_view && *existing == RelationKind::kView && task.last_view_key == view_key) {
      out.version = view_key;
      return finish(ModelStatus::kUnchanged);
    }
    // An incremental model using run values runs its increment for every value: its
    // definition hash leaves them out (see DefinitionHash).
    const bool may_skip =
        !(m.config.materialized == Materialization::kIncremental && task.uses_values);
    if (!is_view && may_skip && *existing == RelationKind::kTable && current &&
        current->definition_hash == task.definition_hash && current->parents == task.parents) {
      out.version = current->id;
      out.rows = current->rows.loaded;
      return finish(ModelStatus::kUnchanged);
    }
  }

  const Resolver resolve = MakeResolver(session, m);
  const RenderedSql sql = Render(m.sql, resolve);
  auto mark = ctx_.clock.Now();
  // Seconds since the previous call, for the phase breakdown.
  auto lap = [&]() {
    const auto now = ctx_.clock.Now();
    const double s = Seconds(mark, now);
    mark = now;
    return s;
  };
  out.phases.plan = Seconds(started, mark);
  base::Status begun = session.Execute("BEGIN");
  if (!begun.ok()) return failed(begun);
  // Everything up to COMMIT is undone on failure: the previous relation stays as it was.
  std::string export_file;
  types::Schema schema;
  auto in_transaction = [&]() -> base::Status {
    SLUICE_RETURN_IF_ERROR(Materialize(session, task, sql, *existing, current, out));
    out.phases.materialize = lap();
    out.tests = RunModelTests(session, m, session.RelationSql(m.name), resolve, ctx_.clock.Now());
    out.phases.tests = lap();
    std::vector<std::string> failures;
    for (const auto& t : out.tests) {
      if (!t.passed) failures.push_back(t.name);
    }
    if (!failures.empty()) {
      return base::FailedPrecondition(
          m.file + ": model '" + m.name + "': " + std::to_string(failures.size()) + " of " +
          std::to_string(out.tests.size()) + " tests failed: " + Join(failures, ", "));
    }
    if (is_view) return base::Status::Ok();
    std::random_device rd;
    export_file = (scratch_->path() / (m.name + "-" + std::to_string(rd()) + ".parquet")).string();
    SLUICE_ASSIGN_OR_RETURN(schema, session.Columns(m.name));
    SLUICE_ASSIGN_OR_RETURN(
        out.rows, session.ExportParquet(m.name, export_file, ctx_.project.lake.compression,
                                        scratch_->path()));
    out.phases.export_parquet = lap();
    return base::Status::Ok();
  }();
  if (!in_transaction.ok()) {
    (void)session.Execute("ROLLBACK");
    out.error = in_transaction.message();
    return finish(ModelStatus::kFailed);
  }
  base::Status committed = session.Execute("COMMIT");
  if (!committed.ok()) return failed(committed.WithContext("committing model '" + m.name + "'"));
  out.phases.commit = lap();

  if (is_view) {
    out.version = view_key;
    return finish(ModelStatus::kBuilt);
  }
  // Published only once committed: the lake never names rows the warehouse rolled back.
  std::error_code ec;
  const auto bytes = fs::file_size(export_file, ec);
  auto sha = ctx_.lake.PutObject(export_file, /*move=*/true);
  if (!sha.ok()) return failed(sha.status());
  lake::Manifest manifest;
  manifest.dataset = m.name;
  manifest.kind = "model";
  manifest.definition_hash = task.definition_hash;
  manifest.parents = task.parents;
  manifest.schema = schema;
  manifest.rows.read = out.rows;
  manifest.rows.loaded = out.rows;
  manifest.outputs.push_back({"data", *sha, ec ? 0 : bytes, out.rows});
  manifest.sluice_version = base::kBuildVersion;
  manifest.created_at = base::FormatTime(ctx_.clock.Now());
  auto published = ctx_.lake.Publish(std::move(manifest));
  if (!published.ok())
    return failed(published.status().WithContext("publishing model '" + m.name + "'"));
  out.version = published->manifest.id;
  out.new_version = published->created;
  out.phases.publish = lap();
  if (current && out.new_rows >= 0) out.previous_version = current->id;
  return finish(ModelStatus::kBuilt);
}

void Run::Record(ModelOutcome& o, const std::string& kind, base::ProcessingTime started) const {
  if (kind == "build") base::KillPoint("build.before_run_record");
  auto id = ctx_.registry.BeginRun(kind, o.model, base::FormatTime(started));
  if (!id.ok()) {
    base::LogWarn("could not record the run of model '" + o.model + "': " + id.status().ToString());
    return;
  }
  o.run_id = *id;
  registry::RunRecord run;
  run.id = *id;
  run.kind = kind;
  run.target = o.model;
  switch (o.status) {
    case ModelStatus::kBuilt:
      run.status = "succeeded";
      break;
    case ModelStatus::kUnchanged:
      run.status = "unchanged";
      break;
    case ModelStatus::kFailed:
      run.status = "failed";
      break;
    case ModelStatus::kSkipped:
      run.status = "skipped";
      break;
  }
  run.started_at = base::FormatTime(started);
  run.finished_at = base::FormatTime(ctx_.clock.Now());
  run.duration_seconds = o.seconds;
  run.rows_loaded = o.rows;
  run.rows_read = o.new_rows >= 0 ? o.new_rows : o.rows;
  // For a view this list is where later builds read its lineage from (views are not in the lake).
  run.inputs = Join(o.parents, ",");
  run.output_version = o.version;
  run.error =
      o.status == ModelStatus::kSkipped ? "upstream model '" + o.upstream + "' failed" : o.error;
  base::Status s = ctx_.registry.FinishRun(run);
  if (!s.ok())
    base::LogWarn("could not record the run of model '" + o.model + "': " + s.ToString());
  if (kind == "build" && o.status == ModelStatus::kBuilt && o.new_version) {
    std::vector<registry::LineageEdge> edges;
    for (const auto& p : o.parents)
      edges.push_back({p, o.version, *id});
    if (!o.previous_version.empty() && o.previous_version != o.version) {
      edges.push_back({o.previous_version, o.version, *id});
    }
    s = ctx_.registry.AddLineage(edges);
    if (!s.ok())
      base::LogWarn("could not record the lineage of model '" + o.model + "': " + s.ToString());
  }
}

base::Result<BuildReport> Run::Build(const std::vector<std::string>& selected,
                                     const BuildOptions& options) {
  SLUICE_RETURN_IF_ERROR(Prepare(selected, /*for_tests=*/false));
  BuildReport report;
  if (selected.empty()) return report;
  const std::set<std::string> chosen(selected.begin(), selected.end());

  int jobs = options.jobs;
  if (jobs <= 0) {
    jobs = std::clamp(static_cast<int>(std::thread::hardware_concurrency()), 1, kMaxDefaultJobs);
  }
  jobs = std::min<int>(jobs, static_cast<int>(selected.size()));
  std::vector<std::unique_ptr<warehouse::Warehouse>> owned;
  std::vector<warehouse::Warehouse*> sessions = {&ctx_.warehouse};
  for (int i = 1; i < jobs; ++i) {
    auto s = ctx_.warehouse.NewSession();
    if (!s.ok())
      return s.status().WithContext("opening warehouse session " + std::to_string(i + 1));
    owned.push_back(std::move(s).value());
    sessions.push_back(owned.back().get());
  }

  std::mutex mu;
  std::condition_variable cv;
  std::deque<Task> queue;
  std::deque<ModelOutcome> results;
  bool stop = false;
  std::vector<std::thread> workers;
  for (auto* session : sessions) {
    workers.emplace_back([&, session] {
      while (true) {
        Task task;
        {
          std::unique_lock lock(mu);
          cv.wait(lock, [&] { return stop || !queue.empty(); });
          if (queue.empty()) return;
          task = std::move(queue.front());
          queue.pop_front();
        }
        ModelOutcome outcome = BuildOne(*session, task);
        {
          std::lock_guard lock(mu);
          results.push_back(std::move(outcome));
        }
        cv.notify_all();
      }
    });
  }

  // The coordinator (this thread) owns the registry and decides what is ready.
  std::map<std::string, ModelStatus> done;
  std::map<std::string, std::string> failed_root;  // model -> the failed model that stopped it
  std::set<std::string> dispatched;
  std::map<std::string, base::ProcessingTime> started;
  std::size_t finished = 0;
  auto complete = [&](ModelOutcome o) {
    const std::string name = o.model;
    if (o.status == ModelStatus::kBuilt || o.status == ModelStatus::kUnchanged) {
      ModelState state;
      state.parents = o.parents;
      if (o.materialized != Materialization::kView) state.version = o.version;
      states_[name] = std::move(state);
    } else if (o.status == ModelStatus::kFailed) {
      failed_root[name] = name;
    }
    done[name] = o.status;
    Record(o, "build", started.count(name) ? started[name] : ctx_.clock.Now());
    if (o.status == ModelStatus::kBuilt) {
      char line[256];
      std::snprintf(line, sizeof(line),
                    "model %s: plan %.3fs, materialize %.3fs, tests %.3fs, export %.3fs, commit "
                    "%.3fs, publish %.3fs",
                    name.c_str(), o.phases.plan, o.phases.materialize, o.phases.tests,
                    o.phases.export_parquet, o.phases.commit, o.phases.publish);
      base::LogInfo(line);
    }
    if (options.on_done) options.on_done(o);
    report.models.push_back(std::move(o));
    ++finished;
  };
  auto dispatch_ready = [&] {
    bool progressed = true;
    while (progressed) {
      progressed = false;
      for (const auto& name : selected) {
        if (dispatched.count(name)) continue;
        const Model& m = *graph_.Find(name);
        bool ready = true;
        std::string blocked_by;
        for (const auto& d : m.depends_on) {
          if (!chosen.count(d)) continue;
          auto it = done.find(d);
          if (it == done.end()) {
            ready = false;
          } else if (it->second == ModelStatus::kFailed || it->second == ModelStatus::kSkipped) {
            blocked_by = failed_root.count(d) ? failed_root[d] : d;
          }
        }
        if (!blocked_by.empty()) {
          dispatched.insert(name);
          ModelOutcome o;
          o.model = name;
          o.file = m.file;
          o.materialized = m.config.materialized;
          o.status = ModelStatus::kSkipped;
          o.upstream = blocked_by;
          failed_root[name] = blocked_by;
          complete(std::move(o));
          progressed = true;
          continue;
        }
        if (!ready) continue;
        dispatched.insert(name);
        Task task;
        task.model = &m;
        task.parents = ParentsOf(m);
        task.definition_hash = DefinitionHash(graph_, m, values_);
        task.uses_values = UsesValues(graph_, m);
        task.full_refresh = options.full_refresh;
        if (m.config.materialized == Materialization::kView) {
          task.last_view_key = LastViewKey(name).value_or("");
        }
        started[name] = ctx_.clock.Now();
        {
          std::lock_guard lock(mu);
          queue.push_back(std::move(task));
        }
        cv.notify_all();
        progressed = true;
      }
    }
  };

  dispatch_ready();
  while (finished < selected.size()) {
    ModelOutcome o;
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return !results.empty(); });
      o = std::move(results.front());
      results.pop_front();
    }
    complete(std::move(o));
    dispatch_ready();
  }
  {
    std::lock_guard lock(mu);
    stop = true;
  }
  cv.notify_all();
  for (auto& w : workers)
    w.join();
  return report;
}

base::Result<BuildReport> Run::Test(const std::vector<std::string>& selected,
                                    const std::function<void(const ModelOutcome&)>& on_done) {
  SLUICE_RETURN_IF_ERROR(Prepare(selected, /*for_tests=*/true));
  BuildReport report;
  for (const auto& name : selected) {
    const Model& m = *graph_.Find(name);
    const auto started = ctx_.clock.Now();
    ModelOutcome o;
    o.model = name;
    o.file = m.file;
    o.materialized = m.config.materialized;
    auto kind = ctx_.warehouse.Relation(name);
    if (!kind.ok()) {
      o.status = ModelStatus::kFailed;
      o.error = kind.status().ToString();
    } else if (*kind == RelationKind::kNone) {
      o.status = ModelStatus::kFailed;
      o.error = m.file + ": model '" + name + "' has not been built in " +
                ctx_.warehouse.Describe() + "; run `sluice build " + name + "`";
    } else {
      o.tests = RunModelTests(ctx_.warehouse, m, ctx_.warehouse.RelationSql(name),
                              MakeResolver(ctx_.warehouse, m), ctx_.clock.Now());
      std::vector<std::string> failures;
      for (const auto& t : o.tests) {
        if (!t.passed) failures.push_back(t.name);
      }
      o.status = failures.empty() ? ModelStatus::kBuilt : ModelStatus::kFailed;
      if (!failures.empty()) {
        o.error = m.file + ": model '" + name + "': " + std::to_string(failures.size()) + " of " +
                  std::to_string(o.tests.size()) + " tests failed: " + Join(failures, ", ");
      }
    }
    o.seconds = Seconds(started, ctx_.clock.Now());
    Record(o, "test", started);
    if (on_done) on_done(o);
    report.models.push_back(std::move(o));
  }
  return report;
}

}  // namespace

std::string_view Name(ModelStatus status) {
  switch (status) {
    case ModelStatus::kBuilt:
      return "built";
    case ModelStatus::kUnchanged:
      return "unchanged";
    case ModelStatus::kFailed:
      return "failed";
    case ModelStatus::kSkipped:
      return "skipped";
  }
  return "?";
}

int BuildReport::Count(ModelStatus status) const {
  return static_cast<int>(std::count_if(models.begin(), models.end(),
                                        [&](const ModelOutcome& o) { return o.status == status; }));
}

std::string SourceRelationPrefix(const std::string& dataset) {
  return "sluice_src_" + dataset + "_";
}

std::string SourceRelationName(const lake::Manifest& v) {
  return SourceRelationPrefix(v.dataset) + v.id.substr(0, 12);
}

namespace {

std::string DefinitionHashWith(const ModelGraph& graph, const Model& m,
                               const TemplateValues* values) {
  std::string text = "materialized=" + std::string(config::Name(m.config.materialized)) +
                     "\nunique_key=" + Join(m.config.unique_key, ",") +
                     "\ncursor=" + m.config.cursor.value_or("") + "\nsql=\n" + m.sql.text;
  // Only when used: models without values keep the hashes they had before values existed.
  if (values != nullptr) {
    const std::string used = UsedValues(m.sql, *values);
    if (!used.empty()) text += "\nvalues=\n" + used;
  }
  for (const auto& r : m.refs) {
    const Model* upstream = graph.Find(r);
    if (upstream != nullptr && upstream->config.materialized == Materialization::kView) {
      text += "\nview " + r + "=" + DefinitionHashWith(graph, *upstream, values);
    }
  }
  return lake::Sha256Hex(text);
}

}  // namespace

std::string DefinitionHash(const ModelGraph& graph, const Model& m, const TemplateValues& values) {
  const bool with_values = m.config.materialized != Materialization::kIncremental;
  return DefinitionHashWith(graph, m, with_values ? &values : nullptr);
}

bool UsesValues(const ModelGraph& graph, const Model& m) {
  for (const auto& ref : m.sql.refs) {
    if (IsValue(ref.kind)) return true;
  }
  for (const auto& r : m.refs) {
    const Model* upstream = graph.Find(r);
    if (upstream != nullptr && upstream->config.materialized == Materialization::kView &&
        UsesValues(graph, *upstream)) {
      return true;
    }
  }
  return false;
}

base::Result<BuildReport> BuildModels(const ModelGraph& graph, const ModelsContext& context,
                                      const BuildOptions& options) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> selected, graph.Select(options.selectors));
  Run run(graph, context, options.values);
  return run.Build(selected, options);
}

base::Result<BuildReport> TestModels(const ModelGraph& graph, const ModelsContext& context,
                                     const std::vector<std::string>& selectors,
                                     const std::function<void(const ModelOutcome&)>& on_done,
                                     const TemplateValues& values) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<std::string> selected, graph.Select(selectors));
  Run run(graph, context, values);
  return run.Test(selected, on_done);
}

}  // namespace sluice::models
