#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
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
#include "lake/lake.h"
#include "lake/manifest.h"
#include "serve/response.h"
#include "types/batch.h"

namespace sluice::serve {

struct ServingLogWriterState;  // the writer's staging folder
struct ServingLogRows;         // rendered rows, as a request thread writes them
struct ServingLogShard;        // a buffer of rendered rows that a few request threads share
class ServingLogBatch;         // the writer's collected buffers, read by the Parquet writer

// What one view answered for a logged request, borrowed for the duration of Submit.
struct ServedLookup {
  std::string_view view;
  std::string_view source_version;   // the lake version the served state was materialized from
  std::string_view definition_hash;  // the view definition the server planned with
  const std::vector<std::vector<engine::OnlineFeature>>* entities = nullptr;  // per entity
};

// The response the request thread already rendered, and where each feature's name and value
// are in it (RenderFeatureResponse's feature_spans: entity-major, then view, then feature): the
// log copies those bytes instead of escaping and rendering them a second time.
struct RenderedValues {
  std::string_view text;
  const std::vector<FeatureSpans>* spans = nullptr;
};

// An owning request, for callers that have no rendered response (tests, tools).
struct LoggedLookup {
  std::string view;
  std::string source_version;
  std::string definition_hash;
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
// feature -> {"value"[, "status"]}, the status left out when it is "present"). In the Parquet parts
// (lake::WriteParquet, LZ4) view, source_version and definition are dictionary-encoded strings.
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
// Sample() and, when it says so, Submit(), which renders the request's rows on the calling
// thread into that thread's own buffer (one of a few shards, each behind a mutex only the writer
// ever contends for, when it takes the buffer; the value JSON is copied from the rendered
// response), never doing I/O or waiting for the writer, and drops and counts the request when
// its rows would make more than `queue` rows pending (submitted, not yet published). One writer
// thread, at a lower scheduling priority than the request threads, takes the buffers (swapping
// in emptied ones) every few thousand rows and moves their rows into its own, so the request
// threads' buffers stay small and in cache, and publishes the rows to the lake as new versions of
// the log dataset, each
// adding one Parquet part ("data") to the previous version, at `flush_rows` pending rows or when
// the oldest is `flush_interval` old on the injected clock, and on Close; after a failed attempt
// the rows stay pending and are tried again an interval later. A part is written in the lake's
// staging folder and enters the dataset only by the lake's atomic publish, so a crash loses at most
// the rows not yet published, never damages the dataset. One serving process per log dataset: two
// would each publish on top of their own last version.
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
  // Logs a sampled request (one row per view and entity), or drops and counts it when the queue
  // is full. `entity_json` holds each entity's keys as canonical JSON; each lookup's entities
  // are parallel to it. With `values`, the feature values are copied from the response.
  void Submit(std::int64_t served_at, std::int64_t at, const std::vector<std::string>& entity_json,
              const std::vector<ServedLookup>& lookups, const RenderedValues* values = nullptr);
  void Submit(const LoggedRequest& request);
  // Publishes everything submitted so far, waiting for it (tests, shutdown).
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
  // Moves every shard's rows into batch_ (writer thread only).
  void Collect();
  // When the oldest row not yet published came (writer thread only).
  std::optional<base::ProcessingTime> OldestPending();
  // Publishes batch_ as a new version (writer thread only).
  base::Status Publish();

  lake::Lake lake_;
  const config::ServingLogSpec spec_;
  base::Clock& clock_;

  std::unique_ptr<ServingLogShard[]> shards_;
  std::atomic<bool> accepting_{true};
  std::atomic<std::uint64_t> pending_rows_{0};  // submitted, not yet published

  mutable std::mutex mu_;
  std::condition_variable wake_;  // the writer: flush_rows reached, a flush asked for, or stop
  std::condition_variable done_;  // Flush(): a flush finished
  bool woken_ = false;            // a Submit crossed flush_rows or a multiple of kCollectRows
  bool stop_ = false;
  std::uint64_t flush_asked_ = 0;  // Flush() calls so far...
  std::uint64_t flush_done_ = 0;   // ...and those the writer has finished
  base::Status last_error_;
  bool closed_ = false;

  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> rows_{0};
  std::atomic<std::uint64_t> versions_{0};
  std::atomic<std::uint64_t> failed_flushes_{0};
  std::atomic<std::uint64_t> lost_rows_{0};

  // Writer thread only.
  // Emptied buffers, swapped with the shards' full ones: both keep their capacity.
  std::vector<std::unique_ptr<ServingLogRows>> spare_;
  std::unique_ptr<ServingLogBatch> batch_;  // collected rows not yet published
  // Per shard, the bytes and rows its buffer held when last taken.
  std::vector<std::pair<std::size_t, std::size_t>> shard_sizes_;
  base::ProcessingTime batch_oldest_;  // when the oldest of them came (or the last try)
  bool retry_wait_ = false;            // a publish failed: the next one an interval later
  // The staging folder parts are written in before the lake takes them.
  std::shared_ptr<ServingLogWriterState> writer_state_;
  std::uint64_t next_request_ = 0;
  std::optional<lake::Manifest> last_version_;
  std::uint64_t parts_ = 0;

  std::thread writer_;
};

}  // namespace sluice::serve
