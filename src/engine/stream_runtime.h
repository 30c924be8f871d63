#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "config/project.h"
#include "connectors/kafka_consumer.h"
#include "engine/stream_cursor.h"
#include "lake/lake.h"
#include "store/online_store.h"

namespace sluice::engine {

struct StreamOptions {
  size_t max_poll_messages = 20000;            // one micro-batch at most
  std::chrono::milliseconds poll_timeout{50};  // how long a poll waits for messages
  // How long a micro-batch may gather messages (from its first one) before it is applied,
  // unless it is full or the topic goes quiet first: under a steady stream this bounds the
  // per-batch costs (the row SQL, the store write with the cursor) to a few hundred batches a
  // second for at most this much added latency. 0: apply after every poll.
  std::chrono::milliseconds batch_linger{10};
  // Far behind the partitions' high watermarks (a catch-up, a backlog after a restart), a
  // micro-batch gathers up to this many messages for up to catch_up_linger instead
  // (MicroBatchGate): the per-batch costs are paid per this many events. 0: never.
  size_t catch_up_batch_messages = 500000;
  std::chrono::milliseconds catch_up_linger{1000};
  std::int64_t segment_rows = 1'000'000;  // a lake segment rolls at this many rows...
  base::Duration segment_age = std::chrono::minutes(1);  // ...or this old, whichever first
  // Stop once every partition reached the end offset it had at start, after applying every
  // event still waiting for the watermark (the input is over: the watermark moves to its end).
  // In a group (stop_at_end): once the owned partitions are done, wait for the others too.
  bool stop_at_end = false;
  // Share the topic's partitions with the other workers of the source's consumer group (a
  // shared store: Redis) instead of taking every partition (docs/streaming.md, "Scale-out").
  bool consumer_group = false;
  // A partition caught up and silent this long stops holding back the other partitions'
  // events (zero: never); its events older than what was applied meanwhile are late.
  base::Duration idle_timeout = std::chrono::seconds(30);
  // Decoded entity states kept between micro-batches, per view, up to this many bytes of
  // encoded state (EntityStateCache): a cached entity's update skips the store read and the
  // decode. Cleared when partitions move, on a generation switch and on a failed write. 0: off.
  size_t state_cache_bytes = size_t{256} << 20;
};

// What `sluice stream` shows and exports, for this run.
struct StreamStatus {
  StreamCounts counts;        // this run: consumed = applied + quarantined + late + buffered
  std::int64_t buffered = 0;  // events waiting for the watermark
  std::map<std::int32_t, std::int64_t> lag;  // partition -> messages behind its high watermark
  std::int64_t batches = 0;
  std::int64_t segments = 0;  // lake segments landed
  double last_batch_seconds = 0;
  // Event time to the store write that made an event servable, for events of the last batch
  // (processing time minus event time, microseconds); meaningful for live streams only.
  std::vector<std::int64_t> freshness_micros;
  double store_write_seconds = 0;  // the last batch's store writes
  // Views whose changed definition was rebuilt and switched to (this run), and the archived
  // events replayed into them.
  std::vector<std::string> rebuilt;
  std::int64_t rebuilt_from_archive = 0;
};

// `sluice stream` for one Kafka source and the streaming views over it (docs/streaming.md).
//
// Every message is checked against the source's contract (bad ones quarantined), placed in
// event time by a per-partition watermark (events older than it are late), and held until the
// watermark passes it; then events are applied in (event time, partition, offset) order through
// UpdateEntityStates, each view's states written together with the stream's cursor in one
// store write, and every event (late and quarantined ones marked apart) landed in the lake as
// segments of the source's dataset. A restart resumes from the stored cursors and repeats the
// stopped run's decisions, so kills at any moment change nothing in the end. Cursors are kept
// per partition, so with consumer_group several workers share a topic and a partition moves
// between them as a restart would.
class StreamRuntime {
 public:
  static base::Result<std::unique_ptr<StreamRuntime>> Open(
      const config::ProjectSpec& project, const config::SourceSpec& source,
      const std::vector<const config::FeatureViewSpec*>& views, lake::Lake& lake,
      store::OnlineStore& store, std::unique_ptr<connectors::KafkaConsumer> consumer,
      base::Clock& clock, const StreamOptions& options);
  ~StreamRuntime();

  // Consumes until `stop` is set (then commits what was applied and lands the archive) or,
  // with stop_at_end, until the end. `report` is called after every micro-batch.
  base::Status Run(const std::atomic<bool>& stop,
                   const std::function<void(const StreamStatus&)>& report);

  // For a process that exits next: leaves the consumer group and waits for the segment being
  // written, as destroying the runtime does, but leaves what it holds in memory (the views'
  // state caches, DuckDB: millions of allocations after a catch-up) to the exit instead of
  // freeing it piece by piece, which cost about 9% of a catch-up's CPU (bench/stream).
  static void EndBeforeExit(std::unique_ptr<StreamRuntime> runtime);

 private:
  struct State;
  explicit StreamRuntime(std::unique_ptr<State> state);
  std::unique_ptr<State> s_;
};

// The store side entry marking a view as streamed from `source` (its cursors are per partition).
std::string StreamCursorEntry(const std::string& source);
// The store side entry holding a view's stream cursor for one partition: written with the states
// that partition's events produced, and read by whichever worker owns the partition next.
std::string StreamPartitionEntry(const std::string& source, std::int32_t partition);

}  // namespace sluice::engine
