#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "config/project.h"
#include "engine/online_view.h"
#include "lake/lake.h"
#include "lake/manifest.h"
#include "types/batch.h"

namespace sluice::serve {

struct ServingLogWriterState;  // the writer's DuckDB connection and staging folder

// What one view answered for one sampled request, as the request thread hands it over: the
// values themselves (moved, not rendered: rendering is the writer's work).
struct LoggedLookup {
  std::string view;
  std::string source_version;   // the lake version the served state was materialized from
  std::string definition_hash;  // the view definition the server planned with
  std::vector<std::vector<engine::OnlineFeature>> entities;  // parallel to entity_json
};

struct LoggedRequest {
  std::int64_t served_at = 0;            // processing time of the request, microseconds
  std::int64_t at = 0;                   // the instant the values are for, microseconds
  std::vector<std::string> entity_json;  // each entity's keys as canonical JSON
  std::vector<LoggedLookup> lookups;
};

// The columns of a serving log dataset, one row per (request, view, entity): served_at and
// as_of (timestamps: processing time, and the request's "at"), request (int64, per process), view,
// source_version, definition, entity (JSON object of key columns) and features (JSON object:
// feature -> {"value", "status"}).
const types::Schema& ServingLogSchema();

// Counters of a serving log, for /metrics and tests.
struct ServingLogCounts {
  std::uint64_t sampled = 0;   // requests chosen by the sample
  std::uint64_t dropped = 0;   // sampled requests dropped: the queue was full
  std::uint64_t rows = 0;      // rows published to the lake
  std::uint64_t versions = 0;  // lake versions published
  std::uint64_t failed_flushes = 0;
  std::uint64_t lost_rows = 0;     // rows given up: the last flush at shutdown failed
  std::uint64_t pending_rows = 0;  // sampled, not yet published (queued or rendered)
};

// `sluice serve`'s log of what it served (docs/monitoring.md#serving-logs). Request threads call
// Sample() and, when it says so, Submit(): a push under a mutex held for nothing else (never
// I/O, never a wait for the writer), dropping and counting the request when its rows would make
// more than `queue` rows pending (submitted or rendered, not yet published). One writer thread
// renders the rows as they come and publishes them to the lake as new versions of the log
// dataset, each adding one Parquet part ("data") to the previous version, at `flush_rows`
// pending rows or when the oldest is `flush_interval` old on the injected clock, and on Close;
// after a failed attempt the rows stay pending and are tried again an interval later. A part is
// written in the lake's staging folder and enters the dataset only by the lake's atomic publish, so
// a crash loses at most the rows not yet published, never damages the dataset. One serving process
// per log dataset: two would each publish on top of their own last version.
class ServingLog {
 public:
  static base::Result<std::unique_ptr<ServingLog>> Open(const std::filesystem::path& lake_root,
                                                        const config::ServingLogSpec& spec,
                                                        base::Clock& clock);
  ~ServingLog();  // Close()
  ServingLog(const ServingLog&) = delete;
  ServingLog& operator=(const ServingLog&) = delete;

  // Whether to log the calling thread's next request: true for a share sample_rate of calls
  // (a per-thread random stream, no shared state).
  bool Sample();
  // Queues a sampled request, or drops and counts it when the queue is full. Never blocks on
  // the writer.
  void Submit(LoggedRequest request);
  // Publishes everything queued so far, waiting for it (tests, shutdown).
  base::Status Flush();
  // Flushes, stops the writer. Idempotent; returns the last flush's error.
  base::Status Close();

  ServingLogCounts Counts() const;
  // The counters in Prometheus text format (sluice_serve_log_*).
  std::string MetricsText() const;
  const std::string& dataset() const { return spec_.dataset; }

 private:
  ServingLog(const std::filesystem::path& lake_root, config::ServingLogSpec spec,
             base::Clock& clock);
  void WriterLoop();
  // Renders `requests` into batch_ (writer thread only).
  void Render(std::vector<LoggedRequest>& requests);
  // Publishes batch_ as a new version (writer thread only).
  base::Status Publish();

  lake::Lake lake_;
  const config::ServingLogSpec spec_;
  base::Clock& clock_;

  mutable std::mutex mu_;
  std::condition_variable wake_;         // the writer: rows to flush, a flush asked for, or stop
  std::condition_variable done_;         // Flush(): a flush finished
  std::vector<LoggedRequest> queue_;     // submitted, not yet taken by the writer
  std::uint64_t pending_rows_ = 0;       // rows in queue_ and rendered but unpublished
  base::ProcessingTime oldest_pending_;  // when the oldest pending row came (or the last try)
  bool stop_ = false;
  std::uint64_t flush_asked_ = 0;  // Flush() calls so far...
  std::uint64_t flush_done_ = 0;   // ...and those the writer has finished
  base::Status last_error_;
  bool closed_ = false;

  std::atomic<std::uint64_t> sampled_{0};
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> rows_{0};
  std::atomic<std::uint64_t> versions_{0};
  std::atomic<std::uint64_t> failed_flushes_{0};
  std::atomic<std::uint64_t> lost_rows_{0};

  // Writer thread only.
  std::vector<LoggedRequest> spare_;  // swapped with queue_, so both keep their capacity
  types::Batch batch_;                // rendered rows not yet published
  // Declared after batch_, so its DuckDB connection (which reads batch_) closes first.
  std::shared_ptr<ServingLogWriterState> writer_state_;
  std::uint64_t next_request_ = 0;
  std::optional<lake::Manifest> last_version_;
  std::uint64_t parts_ = 0;

  std::thread writer_;
};

}  // namespace sluice::serve
