#include "registry/registry.h"

#include <sqlite3.h>
#include <unistd.h>

#include <csignal>
#include <system_error>

namespace sluice::registry {
namespace {

// Schema migrations, applied in order; PRAGMA user_version records how many ran.
constexpr const char* kMigrations[] = {
    R"sql(
CREATE TABLE runs (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  target TEXT NOT NULL,
  status TEXT NOT NULL,
  pid INTEGER NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT NOT NULL DEFAULT '',
  duration_seconds REAL NOT NULL DEFAULT 0,
  rows_read INTEGER NOT NULL DEFAULT 0,
  rows_loaded INTEGER NOT NULL DEFAULT 0,
  rows_quarantined INTEGER NOT NULL DEFAULT 0,
  inputs TEXT NOT NULL DEFAULT '',
  output_version TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX runs_target ON runs(target, id);
CREATE TABLE lineage (
  src TEXT NOT NULL,
  dst TEXT NOT NULL,
  run_id INTEGER NOT NULL REFERENCES runs(id),
  PRIMARY KEY (src, dst, run_id)
);
CREATE INDEX lineage_dst ON lineage(dst);
)sql",
    // Alerts raised by monitors (src/quality): one row per distinct alert (fingerprint); a repeat
    // counts up instead of raising it again.
    R"sql(
CREATE TABLE alerts (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  fingerprint TEXT NOT NULL UNIQUE,
  monitor TEXT NOT NULL,
  dataset TEXT NOT NULL,
  version TEXT NOT NULL,
  severity TEXT NOT NULL,
  message TEXT NOT NULL,
  details TEXT NOT NULL DEFAULT '',
  first_raised_at TEXT NOT NULL,
  last_raised_at TEXT NOT NULL,
  occurrences INTEGER NOT NULL DEFAULT 1,
  delivery TEXT NOT NULL DEFAULT ''
);
CREATE INDEX alerts_monitor ON alerts(monitor, id);
)sql",
};

bool IsBusy(int code) {
  return (code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED;
}

// The runs still marked running, as "ingest of 'transactions' (pid 123)": the likely holders of
// the registry's write lock, named in the error a locked registry gives. Readers are not blocked
// by a writer in WAL mode, so this works while the lock is held.
std::string RunningRuns(sqlite3* db) {
  sqlite3_stmt* stmt = nullptr;
  std::string out;
  if (sqlite3_prepare_v2(db,
                         "SELECT kind, target, pid FROM runs WHERE status = 'running' ORDER BY id",
                         -1, &stmt, nullptr) != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return out;
  }
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    const auto* kind = sqlite3_column_text(stmt, 0);
    const auto* target = sqlite3_column_text(stmt, 1);
    if (!out.empty()) out += ", ";
    out += std::string(kind ? reinterpret_cast<const char*>(kind) : "") + " of '" +
           (target ? reinterpret_cast<const char*>(target) : "") + "' (pid " +
           std::to_string(sqlite3_column_int64(stmt, 2)) + ")";
  }
  sqlite3_finalize(stmt);
  return out;
}

base::Status BusyError(sqlite3* db, const std::string& what) {
  const std::string running = RunningRuns(db);
  return base::IoError(
      "registry: " + what + ": the registry '" + sqlite3_db_filename(db, "main") +
          "' stayed locked by another sluice process (" +
          (running.empty() ? "no run of it is recorded yet" : "running: " + running) +
          "); try again when it has finished",
      /*retryable=*/true);
}

base::Status SqliteError(sqlite3* db, const std::string& what) {
  const int code = sqlite3_extended_errcode(db);
  if (IsBusy(code)) return BusyError(db, what);
  return base::IoError("registry: " + what + ": " + sqlite3_errmsg(db));
}

// sqlite3_exec, retried while the database is busy: setting the journal mode of a new database
// and similar statements return SQLITE_BUSY without calling the busy handler.
int ExecWaiting(sqlite3* db, const std::string& sql, std::string* error, int timeout_ms) {
  int rc = SQLITE_OK;
  for (int waited_ms = 0;; waited_ms += 10) {
    char* err = nullptr;
    rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
    if (error != nullptr) *error = err ? err : "";
    sqlite3_free(err);
    if (!IsBusy(rc) || waited_ms >= timeout_ms) return rc;
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_sleep(10);
  }
}

// A prepared statement that finalizes itself.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool ok() const { return rc_ == SQLITE_OK; }
  void Bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  }
  void Bind(int i, std::int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void Bind(int i, double v) { sqlite3_bind_double(stmt_, i, v); }
  int Step() { return sqlite3_step(stmt_); }
  std::string Text(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? reinterpret_cast<const char*>(p) : "";
  }
  std::int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  double Real(int col) const { return sqlite3_column_double(stmt_, col); }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

constexpr const char* kRunColumns =
    "id, kind, target, status, started_at, finished_at, duration_seconds, rows_read, "
    "rows_loaded, rows_quarantined, inputs, output_version, error";

RunRecord ReadRun(const Statement& s) {
  RunRecord r;
  r.id = s.Int(0);
  r.kind = s.Text(1);
  r.target = s.Text(2);
  r.status = s.Text(3);
  r.started_at = s.Text(4);
  r.finished_at = s.Text(5);
  r.duration_seconds = s.Real(6);
  r.rows_read = s.Int(7);
  r.rows_loaded = s.Int(8);
  r.rows_quarantined = s.Int(9);
  r.inputs = s.Text(10);
  r.output_version = s.Text(11);
  r.error = s.Text(12);
  return r;
}

}  // namespace

struct Registry::Handle {
  sqlite3* db = nullptr;
  ~Handle() { sqlite3_close(db); }
};

Registry::Registry(std::unique_ptr<Handle> handle) : handle_(std::move(handle)) {}
Registry::Registry(Registry&&) noexcept = default;
Registry& Registry::operator=(Registry&&) noexcept = default;
Registry::~Registry() = default;

base::Result<Registry> Registry::Open(const std::filesystem::path& path,
                                      std::chrono::milliseconds busy_timeout) {
  const int timeout_ms = static_cast<int>(busy_timeout.count());
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  auto handle = std::make_unique<Handle>();
  if (sqlite3_open_v2(path.c_str(), &handle->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                      nullptr) != SQLITE_OK) {
    return base::IoError("registry: cannot open '" + path.string() +
                         "': " + (handle->db ? sqlite3_errmsg(handle->db) : "out of memory"));
  }
  sqlite3* db = handle->db;
  sqlite3_busy_timeout(db, timeout_ms);
  std::string err;
  int rc = ExecWaiting(db, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;", &err, timeout_ms);
  if (IsBusy(rc)) return BusyError(db, "cannot open '" + path.string() + "'");
  if (rc != SQLITE_OK) {
    return base::IoError("registry: cannot configure '" + path.string() + "': " + err);
  }
  // The schema version is read inside the write transaction that migrates: two processes
  // opening a new registry at once then migrate it once, the second finding it done.
  rc = ExecWaiting(db, "BEGIN IMMEDIATE", &err, timeout_ms);
  if (IsBusy(rc)) return BusyError(db, "cannot open '" + path.string() + "'");
  if (rc != SQLITE_OK)
    return base::IoError("registry: cannot open '" + path.string() + "': " + err);
  std::int64_t version = 0;
  {
    Statement s(db, "PRAGMA user_version");
    if (!s.ok() || s.Step() != SQLITE_ROW) {
      base::Status st = base::Corruption("registry: '" + path.string() +
                                         "' is not a sluice registry: " + sqlite3_errmsg(db));
      sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
      return st;
    }
    version = s.Int(0);
  }
  const std::int64_t known = static_cast<std::int64_t>(std::size(kMigrations));
  if (version > known) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return base::FailedPrecondition("registry: '" + path.string() + "' has schema version " +
                                    std::to_string(version) + ", newer than this sluice (" +
                                    std::to_string(known) + "); upgrade sluice");
  }
  std::string sql;
  for (std::int64_t v = version; v < known; ++v) {
    sql += std::string(kMigrations[v]) + "PRAGMA user_version=" + std::to_string(v + 1) + ";";
  }
  sql += "COMMIT;";
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    base::Status st = IsBusy(sqlite3_extended_errcode(db))
                          ? BusyError(db, "cannot open '" + path.string() + "'")
                          : base::IoError("registry: migration to schema version " +
                                          std::to_string(known) + " failed: " + sqlite3_errmsg(db));
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    return st;
  }
  // A run whose process is gone will never finish: say so instead of showing it as running.
  {
    Statement s(db, "SELECT id, pid FROM runs WHERE status = 'running'");
    std::vector<std::int64_t> dead;
    while (s.Step() == SQLITE_ROW) {
      const auto pid = static_cast<pid_t>(s.Int(1));
      if (pid != getpid() && ::kill(pid, 0) != 0 && errno == ESRCH) dead.push_back(s.Int(0));
    }
    for (auto id : dead) {
      Statement u(db,
                  "UPDATE runs SET status = 'interrupted', error = 'the process ended before "
                  "the run finished' WHERE id = ?");
      u.Bind(1, id);
      u.Step();
    }
  }
  return Registry(std::move(handle));
}

base::Result<std::int64_t> Registry::BeginRun(const std::string& kind, const std::string& target,
                                              const std::string& started_at) {
  Statement s(handle_->db,
              "INSERT INTO runs(kind, target, status, pid, started_at) VALUES (?, ?, 'running', "
              "?, ?)");
  if (!s.ok()) return SqliteError(handle_->db, "cannot record a run");
  s.Bind(1, kind);
  s.Bind(2, target);
  s.Bind(3, static_cast<std::int64_t>(getpid()));
  s.Bind(4, started_at);
  if (s.Step() != SQLITE_DONE) return SqliteError(handle_->db, "cannot record a run");
  return static_cast<std::int64_t>(sqlite3_last_insert_rowid(handle_->db));
}

base::Status Registry::FinishRun(const RunRecord& run) {
  Statement s(handle_->db,
              "UPDATE runs SET status = ?, finished_at = ?, duration_seconds = ?, rows_read = ?, "
              "rows_loaded = ?, rows_quarantined = ?, inputs = ?, output_version = ?, error = ? "
              "WHERE id = ?");
  if (!s.ok()) return SqliteError(handle_->db, "cannot finish run");
  s.Bind(1, run.status);
  s.Bind(2, run.finished_at);
  s.Bind(3, run.duration_seconds);
  s.Bind(4, run.rows_read);
  s.Bind(5, run.rows_loaded);
  s.Bind(6, run.rows_quarantined);
  s.Bind(7, run.inputs);
  s.Bind(8, run.output_version);
  s.Bind(9, run.error);
  s.Bind(10, run.id);
  if (s.Step() != SQLITE_DONE) return SqliteError(handle_->db, "cannot finish run");
  if (sqlite3_changes(handle_->db) != 1) {
    return base::NotFound("registry: no run " + std::to_string(run.id));
  }
  return base::Status::Ok();
}

base::Status Registry::AddLineage(const std::vector<LineageEdge>& edges) {
  sqlite3_exec(handle_->db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr);
  for (const auto& e : edges) {
    Statement s(handle_->db, "INSERT OR IGNORE INTO lineage(src, dst, run_id) VALUES (?, ?, ?)");
    s.Bind(1, e.from);
    s.Bind(2, e.to);
    s.Bind(3, e.run_id);
    if (s.Step() != SQLITE_DONE) {
      base::Status st = SqliteError(handle_->db, "cannot record lineage");
      sqlite3_exec(handle_->db, "ROLLBACK", nullptr, nullptr, nullptr);
      return st;
    }
  }
  if (sqlite3_exec(handle_->db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    return SqliteError(handle_->db, "cannot record lineage");
  }
  return base::Status::Ok();
}

base::Result<std::vector<RunRecord>> Registry::Runs(const std::string& target, int limit) {
  const std::string sql = std::string("SELECT ") + kRunColumns +
                          " FROM runs WHERE (?1 = '' OR target = ?1) ORDER BY id DESC LIMIT ?2";
  Statement s(handle_->db, sql.c_str());
  if (!s.ok()) return SqliteError(handle_->db, "cannot list runs");
  s.Bind(1, target);
  s.Bind(2, static_cast<std::int64_t>(limit));
  std::vector<RunRecord> out;
  while (s.Step() == SQLITE_ROW)
    out.push_back(ReadRun(s));
  return out;
}

base::Result<std::optional<RunRecord>> Registry::Run(std::int64_t id) {
  const std::string sql = std::string("SELECT ") + kRunColumns + " FROM runs WHERE id = ?";
  Statement s(handle_->db, sql.c_str());
  if (!s.ok()) return SqliteError(handle_->db, "cannot read run");
  s.Bind(1, id);
  if (s.Step() != SQLITE_ROW) return std::optional<RunRecord>();
  return std::optional<RunRecord>(ReadRun(s));
}

base::Result<bool> Registry::RecordAlert(const AlertRecord& a) {
  Statement s(handle_->db,
              "INSERT INTO alerts (fingerprint, monitor, dataset, version, severity, message, "
              "details, first_raised_at, last_raised_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
              "?8) ON CONFLICT(fingerprint) DO UPDATE SET occurrences = occurrences + 1, "
              "last_raised_at = excluded.last_raised_at RETURNING occurrences");
  if (!s.ok()) return SqliteError(handle_->db, "cannot record alert");
  s.Bind(1, a.fingerprint);
  s.Bind(2, a.monitor);
  s.Bind(3, a.dataset);
  s.Bind(4, a.version);
  s.Bind(5, a.severity);
  s.Bind(6, a.message);
  s.Bind(7, a.details);
  s.Bind(8, a.last_raised_at);
  if (s.Step() != SQLITE_ROW) return SqliteError(handle_->db, "cannot record alert");
  const bool first = s.Int(0) == 1;
  if (s.Step() != SQLITE_DONE) return SqliteError(handle_->db, "cannot record alert");
  return first;
}

base::Status Registry::SetAlertDelivery(const std::string& fingerprint,
                                        const std::string& delivery) {
  Statement s(handle_->db, "UPDATE alerts SET delivery = ?2 WHERE fingerprint = ?1");
  if (!s.ok()) return SqliteError(handle_->db, "cannot update alert");
  s.Bind(1, fingerprint);
  s.Bind(2, delivery);
  if (s.Step() != SQLITE_DONE) return SqliteError(handle_->db, "cannot update alert");
  return base::Status();
}

base::Result<std::vector<AlertRecord>> Registry::Alerts(const std::string& monitor, int limit) {
  Statement s(handle_->db,
              "SELECT id, fingerprint, monitor, dataset, version, severity, message, details, "
              "first_raised_at, last_raised_at, occurrences, delivery FROM alerts "
              "WHERE (?1 = '' OR monitor = ?1) ORDER BY id DESC LIMIT ?2");
  if (!s.ok()) return SqliteError(handle_->db, "cannot list alerts");
  s.Bind(1, monitor);
  s.Bind(2, static_cast<std::int64_t>(limit));
  std::vector<AlertRecord> out;
  while (s.Step() == SQLITE_ROW) {
    AlertRecord a;
    a.id = s.Int(0);
    a.fingerprint = s.Text(1);
    a.monitor = s.Text(2);
    a.dataset = s.Text(3);
    a.version = s.Text(4);
    a.severity = s.Text(5);
    a.message = s.Text(6);
    a.details = s.Text(7);
    a.first_raised_at = s.Text(8);
    a.last_raised_at = s.Text(9);
    a.occurrences = s.Int(10);
    a.delivery = s.Text(11);
    out.push_back(std::move(a));
  }
  return out;
}

base::Result<std::vector<LineageEdge>> Registry::Lineage(const std::string& node) {
  Statement s(handle_->db,
              "SELECT src, dst, run_id FROM lineage WHERE src = ?1 OR dst = ?1 ORDER BY run_id");
  if (!s.ok()) return SqliteError(handle_->db, "cannot read lineage");
  s.Bind(1, node);
  std::vector<LineageEdge> out;
  while (s.Step() == SQLITE_ROW)
    out.push_back({s.Text(0), s.Text(1), s.Int(2)});
  return out;
}

}  // namespace sluice::registry
