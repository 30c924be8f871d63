#include "registry/pipeline_history.h"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <csignal>
#include <fstream>
#include <system_error>

#include "registry/sqlite_access.h"

namespace sluice::registry {
namespace {

constexpr const char* kPart = "pipelines";

// Migrations of the "pipelines" part, applied in order; registry_parts records how many ran.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE pipeline_runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  pipeline TEXT NOT NULL,
  status TEXT NOT NULL,
  pid INTEGER NOT NULL,
  host TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT NOT NULL DEFAULT '',
  resumed_from INTEGER NOT NULL DEFAULT 0,
  trigger TEXT NOT NULL DEFAULT 'manual',
  interval_start TEXT NOT NULL DEFAULT '',
  interval_end TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX pipeline_runs_pipeline ON pipeline_runs(pipeline, id);
CREATE TABLE pipeline_run_params (
  run_id INTEGER NOT NULL REFERENCES pipeline_runs(id),
  seq INTEGER NOT NULL,
  name TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (run_id, seq)
);
CREATE TABLE step_attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id INTEGER NOT NULL REFERENCES pipeline_runs(id),
  step TEXT NOT NULL,
  attempt INTEGER NOT NULL,
  status TEXT NOT NULL,
  started_at TEXT NOT NULL DEFAULT '',
  finished_at TEXT NOT NULL DEFAULT '',
  exit_code INTEGER,
  error TEXT NOT NULL DEFAULT '',
  timed_out INTEGER NOT NULL DEFAULT 0,
  log_path TEXT NOT NULL DEFAULT '',
  pid INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX step_attempts_run ON step_attempts(run_id, id);
CREATE TABLE pipeline_locks (
  key TEXT PRIMARY KEY,
  run_id INTEGER NOT NULL,
  pid INTEGER NOT NULL,
  host TEXT NOT NULL,
  acquired_at TEXT NOT NULL
);
)sql",
    // Which process the pid was when the attempt started ("<boot id>/<start ticks>"), so a later
    // start can kill a dead run's steps without hitting a process that reused the pid.
    "ALTER TABLE step_attempts ADD COLUMN process_start TEXT NOT NULL DEFAULT '';",
};

// A process that no longer exists, or a zombie (it exited; its parent has not reaped it yet).
bool ProcessGone(std::int64_t pid) {
  if (pid == ::getpid()) return false;
  if (::kill(static_cast<pid_t>(pid), 0) != 0) return errno == ESRCH;
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  std::getline(in, stat);
  const size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z';
}

constexpr const char* kRunColumns =
    "id, pipeline, status, pid, host, started_at, finished_at, resumed_from, trigger, "
    "interval_start, interval_end, error";

PipelineRun ReadRun(const SqliteStatement& s) {
  PipelineRun r;
  r.id = s.Int(0);
  r.pipeline = s.Text(1);
  r.status = s.Text(2);
  r.pid = s.Int(3);
  r.host = s.Text(4);
  r.started_at = s.Text(5);
  r.finished_at = s.Text(6);
  r.resumed_from = s.Int(7);
  r.trigger = s.Text(8);
  r.interval_start = s.Text(9);
  r.interval_end = s.Text(10);
  r.error = s.Text(11);
  return r;
}

// Marks run `id` and its running attempts interrupted and drops its locks.
base::Status MarkInterrupted(sqlite3* db, std::int64_t id, const std::string& now) {
  SqliteStatement run(db,
                      "UPDATE pipeline_runs SET status = 'interrupted', finished_at = ?2, error = "
                      "'the sluice process ended before the run finished' WHERE id = ?1 AND "
                      "status = 'running'");
  run.Bind(1, id);
  run.Bind(2, now);
  SqliteStatement attempts(db,
                           "UPDATE step_attempts SET status = 'interrupted', finished_at = ?2, "
                           "error = 'the sluice process ended during the attempt' WHERE run_id = "
                           "?1 AND status = 'running'");
  attempts.Bind(1, id);
  attempts.Bind(2, now);
  SqliteStatement lock(db, "DELETE FROM pipeline_locks WHERE run_id = ?1");
  lock.Bind(1, id);
  if (!run.Done() || !attempts.Done() || !lock.Done()) {
    return SqliteError(db, "cannot mark run " + std::to_string(id) + " interrupted");
  }
  return base::Status::Ok();
}

// Runs `body` inside BEGIN IMMEDIATE ... COMMIT (ROLLBACK when it fails).
template <typename F>
auto InTransaction(sqlite3* db, const std::string& what, F&& body) -> decltype(body()) {
  if (base::Status s = SqliteExec(db, "BEGIN IMMEDIATE", what); !s.ok()) return s;
  auto result = body();
  if (!result.ok()) {
    SqliteRollback(db);
    return result;
  }
  if (base::Status s = SqliteExec(db, "COMMIT", what); !s.ok()) {
    SqliteRollback(db);
    return s;
  }
  return result;
}

}  // namespace

std::string HostName() {
  std::array<char, 256> buf{};
  if (::gethostname(buf.data(), buf.size() - 1) != 0) return "unknown";
  return buf.data();
}

struct PipelineHistory::Handle {
  sqlite3* db = nullptr;
  std::string host;
  ~Handle() { SqliteClose(db); }
};

PipelineHistory::PipelineHistory(std::unique_ptr<Handle> handle) : handle_(std::move(handle)) {}
PipelineHistory::PipelineHistory(PipelineHistory&&) noexcept = default;
PipelineHistory& PipelineHistory::operator=(PipelineHistory&&) noexcept = default;
PipelineHistory::~PipelineHistory() = default;

base::Result<PipelineHistory> PipelineHistory::Open(const std::filesystem::path& path) {
  auto handle = std::make_unique<Handle>();
  handle->host = HostName();
  SLUICE_RETURN_IF_ERROR(SqliteOpen(path, &handle->db));
  SLUICE_RETURN_IF_ERROR(MigratePart(handle->db, kPart, kMigrations, std::size(kMigrations), path));
  return PipelineHistory(std::move(handle));
}

base::Result<std::vector<std::int64_t>> PipelineHistory::RecoverInterrupted(
    const std::string& now) {
  sqlite3* db = handle_->db;
  using Ids = base::Result<std::vector<std::int64_t>>;
  return InTransaction(db, "recovering interrupted runs", [&]() -> Ids {
    std::vector<std::int64_t> dead;
    SqliteStatement s(db,
                      "SELECT id, pid FROM pipeline_runs WHERE status = 'running' AND host = ?1");
    s.Bind(1, handle_->host);
    while (s.Row()) {
      if (ProcessGone(s.Int(1))) dead.push_back(s.Int(0));
    }
    for (auto id : dead)
      SLUICE_RETURN_IF_ERROR(MarkInterrupted(db, id, now));
    return dead;
  });
}

base::Result<std::int64_t> PipelineHistory::BeginRun(const PipelineRun& run,
                                                     const std::string& lock_key) {
  sqlite3* db = handle_->db;
  using Id = base::Result<std::int64_t>;
  return InTransaction(db, "starting a pipeline run", [&]() -> Id {
    SqliteStatement held(
        db, "SELECT run_id, pid, host, acquired_at FROM pipeline_locks WHERE key = ?1");
    held.Bind(1, lock_key);
    if (held.Row()) {
      const std::int64_t holder_run = held.Int(0);
      const std::int64_t pid = held.Int(1);
      const std::string host = held.Text(2);
      if (host != handle_->host || !ProcessGone(pid)) {
        return base::FailedPrecondition(
            "pipeline '" + lock_key + "' is already running: run " + std::to_string(holder_run) +
            " by pid " + std::to_string(pid) + " on " + host + " since " + held.Text(3));
      }
      SLUICE_RETURN_IF_ERROR(MarkInterrupted(db, holder_run, run.started_at));
    }
    SqliteStatement ins(db,
                        "INSERT INTO pipeline_runs(pipeline, status, pid, host, started_at, "
                        "resumed_from, trigger, interval_start, interval_end) VALUES (?1, "
                        "'running', ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    ins.Bind(1, run.pipeline);
    ins.Bind(2, static_cast<std::int64_t>(::getpid()));
    ins.Bind(3, handle_->host);
    ins.Bind(4, run.started_at);
    ins.Bind(5, run.resumed_from);
    ins.Bind(6, run.trigger.empty() ? std::string("manual") : run.trigger);
    ins.Bind(7, run.interval_start);
    ins.Bind(8, run.interval_end);
    if (!ins.Done()) return SqliteError(db, "cannot record a pipeline run");
    const std::int64_t id = SqliteLastInsertId(db);
    for (size_t i = 0; i < run.params.size(); ++i) {
      SqliteStatement p(db,
                        "INSERT INTO pipeline_run_params(run_id, seq, name, value) VALUES (?1, "
                        "?2, ?3, ?4)");
      p.Bind(1, id);
      p.Bind(2, static_cast<std::int64_t>(i));
      p.Bind(3, run.params[i].first);
      p.Bind(4, run.params[i].second);
      if (!p.Done()) return SqliteError(db, "cannot record run parameters");
    }
    SqliteStatement lock(db,
                         "INSERT OR REPLACE INTO pipeline_locks(key, run_id, pid, host, "
                         "acquired_at) VALUES (?1, ?2, ?3, ?4, ?5)");
    lock.Bind(1, lock_key);
    lock.Bind(2, id);
    lock.Bind(3, static_cast<std::int64_t>(::getpid()));
    lock.Bind(4, handle_->host);
    lock.Bind(5, run.started_at);
    if (!lock.Done()) return SqliteError(db, "cannot take the pipeline lock");
    return id;
  });
}

base::Status PipelineHistory::FinishRun(std::int64_t id, const std::string& status,
                                        const std::string& finished_at, const std::string& error) {
  sqlite3* db = handle_->db;
  return InTransaction(db, "finishing a pipeline run", [&]() -> base::Status {
    SqliteStatement u(db,
                      "UPDATE pipeline_runs SET status = ?2, finished_at = ?3, error = ?4 WHERE "
                      "id = ?1");
    u.Bind(1, id);
    u.Bind(2, status);
    u.Bind(3, finished_at);
    u.Bind(4, error);
    if (!u.Done()) return SqliteError(db, "cannot finish run " + std::to_string(id));
    if (SqliteChanges(db) != 1)
      return base::NotFound("registry: no pipeline run " + std::to_string(id));
    SqliteStatement l(db, "DELETE FROM pipeline_locks WHERE run_id = ?1");
    l.Bind(1, id);
    if (!l.Done()) return SqliteError(db, "cannot release the pipeline lock");
    return base::Status::Ok();
  });
}

base::Result<std::int64_t> PipelineHistory::BeginAttempt(const StepAttempt& a) {
  sqlite3* db = handle_->db;
  SqliteStatement s(db,
                    "INSERT INTO step_attempts(run_id, step, attempt, status, started_at, "
                    "finished_at, exit_code, error, timed_out, log_path, pid, process_start) "
                    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)");
  s.Bind(1, a.run_id);
  s.Bind(2, a.step);
  s.Bind(3, static_cast<std::int64_t>(a.attempt));
  s.Bind(4, a.status);
  s.Bind(5, a.started_at);
  s.Bind(6, a.finished_at);
  if (a.exit_code) {
    s.Bind(7, static_cast<std::int64_t>(*a.exit_code));
  } else {
    s.BindNull(7);
  }
  s.Bind(8, a.error);
  s.Bind(9, static_cast<std::int64_t>(a.timed_out ? 1 : 0));
  s.Bind(10, a.log_path);
  s.Bind(11, a.pid);
  s.Bind(12, a.process_start);
  if (!s.Done()) return SqliteError(db, "cannot record a step attempt");
  return SqliteLastInsertId(db);
}

base::Status PipelineHistory::FinishAttempt(const StepAttempt& a) {
  sqlite3* db = handle_->db;
  SqliteStatement s(db,
                    "UPDATE step_attempts SET status = ?2, finished_at = ?3, exit_code = ?4, "
                    "error = ?5, timed_out = ?6 WHERE id = ?1");
  s.Bind(1, a.id);
  s.Bind(2, a.status);
  s.Bind(3, a.finished_at);
  if (a.exit_code) {
    s.Bind(4, static_cast<std::int64_t>(*a.exit_code));
  } else {
    s.BindNull(4);
  }
  s.Bind(5, a.error);
  s.Bind(6, static_cast<std::int64_t>(a.timed_out ? 1 : 0));
  if (!s.Done()) return SqliteError(db, "cannot finish a step attempt");
  return base::Status::Ok();
}

base::Status PipelineHistory::UpdateAttemptPid(std::int64_t attempt_id, std::int64_t pid) {
  SqliteStatement s(handle_->db, "UPDATE step_attempts SET pid = ?2 WHERE id = ?1");
  s.Bind(1, attempt_id);
  s.Bind(2, pid);
  if (!s.Done()) return SqliteError(handle_->db, "cannot record a step's process");
  return base::Status::Ok();
}

base::Status PipelineHistory::ReadParams(PipelineRun& run) {
  SqliteStatement s(handle_->db,
                    "SELECT name, value FROM pipeline_run_params WHERE run_id = ?1 ORDER BY seq");
  if (!s.ok()) return SqliteError(handle_->db, "cannot read run parameters");
  s.Bind(1, run.id);
  while (s.Row())
    run.params.emplace_back(s.Text(0), s.Text(1));
  return base::Status::Ok();
}

base::Result<std::vector<PipelineRun>> PipelineHistory::Runs(const std::string& pipeline,
                                                             int limit) {
  const std::string sql = std::string("SELECT ") + kRunColumns +
                          " FROM pipeline_runs WHERE (?1 = '' OR pipeline = ?1) ORDER BY id DESC "
                          "LIMIT ?2";
  SqliteStatement s(handle_->db, sql.c_str());
  if (!s.ok()) return SqliteError(handle_->db, "cannot list pipeline runs");
  s.Bind(1, pipeline);
  s.Bind(2, static_cast<std::int64_t>(limit));
  std::vector<PipelineRun> out;
  while (s.Row())
    out.push_back(ReadRun(s));
  for (auto& r : out)
    SLUICE_RETURN_IF_ERROR(ReadParams(r));
  return out;
}

base::Result<std::optional<PipelineRun>> PipelineHistory::Run(std::int64_t id) {
  const std::string sql =
      std::string("SELECT ") + kRunColumns + " FROM pipeline_runs WHERE id = ?1";
  SqliteStatement s(handle_->db, sql.c_str());
  if (!s.ok()) return SqliteError(handle_->db, "cannot read a pipeline run");
  s.Bind(1, id);
  if (!s.Row()) return std::optional<PipelineRun>();
  PipelineRun r = ReadRun(s);
  SLUICE_RETURN_IF_ERROR(ReadParams(r));
  return std::optional<PipelineRun>(std::move(r));
}

base::Result<std::vector<StepAttempt>> PipelineHistory::Attempts(std::int64_t run_id) {
  SqliteStatement s(handle_->db,
                    "SELECT id, run_id, step, attempt, status, started_at, finished_at, "
                    "exit_code, error, timed_out, log_path, pid, process_start FROM step_attempts "
                    "WHERE run_id = ?1 ORDER BY id");
  if (!s.ok()) return SqliteError(handle_->db, "cannot read step attempts");
  s.Bind(1, run_id);
  std::vector<StepAttempt> out;
  while (s.Row()) {
    StepAttempt a;
    a.id = s.Int(0);
    a.run_id = s.Int(1);
    a.step = s.Text(2);
    a.attempt = static_cast<int>(s.Int(3));
    a.status = s.Text(4);
    a.started_at = s.Text(5);
    a.finished_at = s.Text(6);
    if (!s.IsNull(7)) a.exit_code = static_cast<int>(s.Int(7));
    a.error = s.Text(8);
    a.timed_out = s.Int(9) != 0;
    a.log_path = s.Text(10);
    a.pid = s.Int(11);
    a.process_start = s.Text(12);
    out.push_back(std::move(a));
  }
  return out;
}

base::Result<std::optional<LockHolder>> PipelineHistory::Lock(const std::string& key) {
  SqliteStatement s(
      handle_->db, "SELECT key, run_id, pid, host, acquired_at FROM pipeline_locks WHERE key = ?1");
  if (!s.ok()) return SqliteError(handle_->db, "cannot read the pipeline lock");
  s.Bind(1, key);
  if (!s.Row()) return std::optional<LockHolder>();
  return std::optional<LockHolder>(LockHolder{s.Text(0), s.Int(1), s.Int(2), s.Text(3), s.Text(4)});
}

base::Result<std::set<std::string>> PipelineHistory::SucceededIntervals(
    const std::string& pipeline) {
  SqliteStatement s(handle_->db,
                    "SELECT DISTINCT interval_start FROM pipeline_runs WHERE pipeline = ?1 AND "
                    "status = 'succeeded' AND interval_start != ''");
  if (!s.ok()) return SqliteError(handle_->db, "cannot read partition runs");
  s.Bind(1, pipeline);
  std::set<std::string> out;
  while (s.Row())
    out.insert(s.Text(0));
  return out;
}

}  // namespace sluice::registry
