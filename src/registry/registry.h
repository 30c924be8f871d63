#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/result.h"

namespace sluice::registry {

// One execution of a command on one target (an ingest of a source, a model build...).
struct RunRecord {
  std::int64_t id = 0;
  std::string kind;         // "ingest", "build", "training_set", ...
  std::string target;       // source, model or training set name
  std::string status;       // "running", "succeeded", "unchanged", "failed", "interrupted"
  std::string started_at;   // ISO-8601 processing time
  std::string finished_at;  // empty while running
  double duration_seconds = 0;
  std::int64_t rows_read = 0;
  std::int64_t rows_loaded = 0;
  std::int64_t rows_quarantined = 0;
  std::string inputs;          // free text: files, tables, version ids (comma-separated)
  std::string output_version;  // the dataset version produced or found unchanged
  std::string error;           // the failure, for status "failed"
};

// A derivation: version `to` was produced from `from` (a dataset version id or an external
// input such as "file:data/transactions.csv@<sha256>") by run `run_id`.
struct LineageEdge {
  std::string from;
  std::string to;
  std::int64_t run_id = 0;
};

// An alert raised by a monitor (src/quality). Alerts with the same fingerprint (monitor, rule and
// the data it looked at) are one alert seen several times.
struct AlertRecord {
  std::int64_t id = 0;
  std::string fingerprint;
  std::string monitor;
  std::string dataset;
  std::string version;   // the dataset version that raised it
  std::string severity;  // "info", "warning", "critical"
  std::string message;
  std::string details;  // JSON
  std::string first_raised_at;
  std::string last_raised_at;
  std::int64_t occurrences = 1;
  std::string delivery;  // what the sinks answered, e.g. "webhook ops: 200 after 1 attempt"
};

// The metadata registry: runs and lineage in an embedded SQLite database. Safe for several
// processes (SQLite's locking, WAL); each Registry object is for one thread.
class Registry {
 public:
  // Waits up to `busy_timeout` for another process's write; past it, the error says which runs
  // are going on (the likely holders of the lock) and is retryable.
  static base::Result<Registry> Open(
      const std::filesystem::path& path,
      std::chrono::milliseconds busy_timeout = std::chrono::milliseconds(10'000));
  Registry(Registry&&) noexcept;
  Registry& operator=(Registry&&) noexcept;
  ~Registry();

  // Records a run as "running" and returns its id. Runs left "running" by a process that no
  // longer exists are marked "interrupted" when the registry is next opened.
  base::Result<std::int64_t> BeginRun(const std::string& kind, const std::string& target,
                                      const std::string& started_at);
  // Stores the final state of a run (its id, kind and target are taken from `run`).
  base::Status FinishRun(const RunRecord& run);
  base::Status AddLineage(const std::vector<LineageEdge>& edges);

  // Newest first; `target` empty = all.
  base::Result<std::vector<RunRecord>> Runs(const std::string& target = "", int limit = 100);
  base::Result<std::optional<RunRecord>> Run(std::int64_t id);
  // Records an alert at `last_raised_at`. Returns true when its fingerprint is new (send it),
  // false when it repeats a recorded one (its occurrences and last time are updated instead).
  base::Result<bool> RecordAlert(const AlertRecord& alert);
  base::Status SetAlertDelivery(const std::string& fingerprint, const std::string& delivery);
  // Newest first; `monitor` empty = all.
  base::Result<std::vector<AlertRecord>> Alerts(const std::string& monitor = "", int limit = 100);

  // Edges into or out of `node`.
  base::Result<std::vector<LineageEdge>> Lineage(const std::string& node);

 private:
  struct Handle;
  explicit Registry(std::unique_ptr<Handle> handle);
  std::unique_ptr<Handle> handle_;
};

}  // namespace sluice::registry
