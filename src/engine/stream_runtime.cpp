#include "engine/stream_runtime.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <future>
#include <limits>
#include <numeric>
#include <optional>
#include <system_error>
#include <tuple>
#include <unordered_map>

#include "base/kill_point.h"
#include "base/log.h"
#include "base/time.h"
#include "connectors/ingest.h"
#include "connectors/kafka_message_reader.h"
#include "engine/entity_state.h"
#include "engine/entity_state_cache.h"
#include "engine/materialization.h"
#include "engine/micro_batch_gate.h"
#include "engine/stream_fence.h"
#include "engine/view_loader.h"
#include "lake/parquet_file.h"
#include "lake/staging_dir.h"
#include "warehouse/duckdb_database.h"

namespace sluice::engine {
namespace {

namespace fs = std::filesystem;
using types::LogicalType;

constexpr std::int64_t kNoTime = std::numeric_limits<std::int64_t>::min();
constexpr std::chrono::milliseconds kMetadataTimeout{10000};
// The extra columns of landed events: where each came from in the topic.
constexpr std::string_view kPartitionColumn = "_kafka_partition";
constexpr std::string_view kOffsetColumn = "_kafka_offset";

// Appends rows row_of(0), ..., row_of(n - 1) of `src` to the first src.num_columns() columns
// of `dst`, a column at a time (one type switch per column, fixed-width values copied into
// slots appended at once).
template <typename RowOf>
void GatherRows(types::Batch& dst, const types::Batch& src, size_t n, RowOf row_of) {
  std::vector<std::uint64_t> mask;
  for (size_t c = 0; c < src.num_columns(); ++c) {
    const types::Column& from = src.column(c);
    types::Column& to = dst.column(c);
    if (from.type() == LogicalType::kString) {
      // Room for all of them at once (exact when every row is gathered, else in proportion): a
      // catch-up's batch of a million rows would otherwise grow the bytes by doubling, copying
      // them and touching fresh pages at each step.
      const size_t bytes = from.string_bytes().size();
      const size_t rows = std::max<size_t>(1, from.size());
      to.Reserve(to.size() + n,
                 to.string_bytes().size() + (n >= rows ? bytes : bytes / rows * n + bytes / 64));
      for (size_t i = 0; i < n; ++i) {
        const size_t r = row_of(i);
        if (from.IsValid(r)) {
          to.AppendString(from.GetString(r));
        } else {
          to.AppendNull();
        }
      }
      continue;
    }
    const bool all_valid = from.AllValid();
    if (!all_valid) {
      mask.assign((n + 63) / 64, 0);
      for (size_t i = 0; i < n; ++i) {
        if (from.IsValid(row_of(i))) mask[i / 64] |= std::uint64_t{1} << (i % 64);
      }
    }
    const size_t width = types::FixedWidth(from.type());
    std::uint8_t* out = to.AppendFixedSlots(all_valid ? nullptr : mask.data(), n);
    const std::uint8_t* in = from.data();
    // A NULL's slot is zeroed in `from`, as a new slot must be.
    for (size_t i = 0; i < n; ++i)
      std::memcpy(out + i * width, in + row_of(i) * width, width);
  }
}

// Empties every column of `b`, keeping the buffers for the next micro-batch.
void ClearRows(types::Batch& b) {
  for (size_t c = 0; c < b.num_columns(); ++c)
    b.column(c).Clear();
}

bool ValidUtf8WithoutNul(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == 0) return false;
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    }
    i += n;
  }
  return true;
}

// Raw message bytes as text for the quarantine: as they are when they are text DuckDB can
// hold, else "base64:" and their Base64.
std::string RawText(std::string_view raw) {
  if (ValidUtf8WithoutNul(raw)) return std::string(raw);
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out = "base64:";
  size_t i = 0;
  for (; i + 2 < raw.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(raw[i]) << 16) |
                       (static_cast<unsigned char>(raw[i + 1]) << 8) |
                       static_cast<unsigned char>(raw[i + 2]);
    for (int k = 3; k >= 0; --k)
      out += kAlphabet[(v >> (6 * k)) & 63];
  }
  if (i < raw.size()) {
    unsigned v = static_cast<unsigned char>(raw[i]) << 16;
    if (i + 1 < raw.size()) v |= static_cast<unsigned char>(raw[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < raw.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

types::Schema WithOrigin(const types::Schema& source) {
  std::vector<types::Field> fields = source.fields();
  fields.push_back({std::string(kPartitionColumn), LogicalType::kInt64, false});
  fields.push_back({std::string(kOffsetColumn), LogicalType::kInt64, false});
  auto schema = types::Schema::Make(std::move(fields));
  return schema.ok() ? std::move(*schema) : source;
}

// The file ingest's quarantine columns (`sluice show` prints them; `file` names the message),
// then where the message is in the topic.
types::Schema QuarantineSchema() {
  auto schema = types::Schema::Make({{"file", LogicalType::kString, false},
                                     {"line", LogicalType::kInt64, true},
                                     {"record", LogicalType::kInt64, true},
                                     {"reason", LogicalType::kString, false},
                                     {"raw", LogicalType::kString, false},
                                     {"topic", LogicalType::kString, false},
                                     {std::string(kPartitionColumn), LogicalType::kInt64, false},
                                     {std::string(kOffsetColumn), LogicalType::kInt64, false}});
  return std::move(*schema);
}

// One event waiting for the watermark. 32 bytes: a catch-up holds back millions of them (and
// sorts and copies those it takes).
struct Waiting {
  std::int64_t ts = 0;
  std::int64_t offset = 0;
  std::int64_t newest_before = kNoTime;  // the partition's newest event time before it (or none)
  std::uint32_t row = 0;                 // in State::waiting_rows (< 4 Gi: its strings are too)
  std::int32_t partition = 0;
};

// Where one partition this worker owns stands in this run.
struct PartitionState {
  std::int64_t next = 0;               // the next offset to consume
  std::optional<std::int64_t> newest;  // newest event time consumed
  std::int64_t replay_until = 0;       // offsets below were consumed by the run resumed
  std::int64_t end = 0;                // the high watermark at start (stop_at_end)
  std::int64_t start = 0;              // where this run started reading
  std::int64_t high = 0;               // the newest high watermark known
  // Every non-late event of this partition older than it is applied; stored with the cursors,
  // so a restart and the partition's next owner carry it on.
  std::int64_t applied_before = kNoTime;
  base::ProcessingTime last_message{};  // when it last delivered a message (idleness)
  // Its first event still waiting for the watermark (the lowest offset waiting: a partition's
  // events wait in offset order), where a cursor committed now resumes; nullopt: none waits.
  std::optional<std::int64_t> waiting_from;
  std::int64_t waiting_newest_before = kNoTime;  // that event's Waiting::newest_before
};

// Something the stream writes to (a view's states, the lake archive), partition by partition:
// the cursor it committed for each partition this worker owns, and what it held when the
// partition arrived here: messages below `seen_at_start` were counted for it before, events
// older than `applied_at_start` were applied to it before.
struct Sink {
  StreamCursor cursor;                          // committed; owned partitions only
  std::map<std::int32_t, StreamCounts> counts;  // counted so far; owned partitions
  std::map<std::int32_t, std::int64_t> seen_at_start;
  std::map<std::int32_t, std::int64_t> applied_at_start;
  bool changed = false;

  bool Counts(std::int32_t partition, std::int64_t offset) const {
    auto it = seen_at_start.find(partition);
    return it == seen_at_start.end() || offset >= it->second;
  }
  bool Applied(std::int32_t partition, std::int64_t ts) const {
    auto it = applied_at_start.find(partition);
    return it != applied_at_start.end() && ts < it->second;
  }
  // The newest applied_at_start: events at or after it are new to this sink in every partition.
  std::int64_t AppliedBound() const {
    std::int64_t bound = kNoTime;
    for (const auto& [p, t] : applied_at_start)
      bound = std::max(bound, t);
    return bound;
  }
  void Arrive(std::int32_t p, const std::optional<StreamPartitionCursor>& stored) {
    counts[p] = stored ? stored->counts : StreamCounts{};
    if (!stored) return;
    cursor.partitions[p] = *stored;
    seen_at_start[p] = stored->seen_through;
    applied_at_start[p] = stored->applied_before;
  }
  void Leave(std::int32_t p) {
    cursor.partitions.erase(p);
    counts.erase(p);
    seen_at_start.erase(p);
    applied_at_start.erase(p);
  }
};

struct ViewSink {
  const config::FeatureViewSpec* spec = nullptr;
  FeatureViewPlan plan;
  std::string events_sql;
  Sink sink;
  store::ViewMeta meta;
  // A changed definition being rebuilt into a new generation (docs/streaming.md,
  // "Reprocessing"): its states stay here, built from the archive and then the topic's tail,
  // until it has caught up and replaces the old generation in one store write. Readers keep
  // the old generation until then; nothing of the new one is stored before.
  bool rebuilding = false;
  bool archive_replayed = false;
  std::unordered_map<std::string, std::string> next_states;               // entity -> head
  std::map<std::pair<std::string, std::string>, std::string> next_parts;  // (entity, part)

  // Takes a batch's writes into the generation being rebuilt.
  void KeepNext(StateWrites&& writes) {
    for (auto& [entity, head] : writes.heads)
      next_states[entity] = std::move(head);
    for (store::PartWrite& w : writes.parts) {
      auto key = std::make_pair(std::move(w.entity), std::move(w.part));
      if (w.value) {
        next_parts[std::move(key)] = std::move(*w.value);
      } else {
        next_parts.erase(key);
      }
    }
  }
  // The view's row SQL over stream_apply() and over stream_view(), planned at first use and
  // rerun on every micro-batch (planning cost more than running on a small batch).
  std::optional<warehouse::DuckDb::Prepared> over_apply, over_view;
  // The heads this worker wrote last (the stored ones while it owns their partitions).
  EntityStateCache cache{0};
};

// The states of a generation being rebuilt, for UpdateEntityStates.
StateLookup NextStateLookup(const ViewSink& v) {
  return [&v](const std::vector<std::string>& keys)
             -> base::Result<std::vector<std::optional<std::string>>> {
    std::vector<std::optional<std::string>> out;
    out.reserve(keys.size());
    for (const std::string& k : keys) {
      auto it = v.next_states.find(k);
      out.push_back(it == v.next_states.end() ? std::nullopt
                                              : std::optional<std::string>(it->second));
    }
    return out;
  };
}

PartLookup NextPartLookup(const ViewSink& v) {
  return [&v](const std::vector<store::PartKey>& keys)
             -> base::Result<std::vector<std::optional<std::string>>> {
    std::vector<std::optional<std::string>> out;
    out.reserve(keys.size());
    for (const store::PartKey& k : keys) {
      auto it = v.next_parts.find({k.entity, k.part});
      out.push_back(it == v.next_parts.end() ? std::nullopt
                                             : std::optional<std::string>(it->second));
    }
    return out;
  };
}

// Written beside every streamed view's states: says its cursors are kept per partition.
constexpr std::string_view kCursorMarker = R"({"format":2,"cursors":"per partition"})";

}  // namespace

std::string StreamCursorEntry(const std::string& source) {
  return "stream." + source;
}

std::string StreamPartitionEntry(const std::string& source, std::int32_t partition) {
  return "stream." + source + "." + std::to_string(partition);
}

struct StreamRuntime::State final : connectors::KafkaRebalanceHandler {
  const config::ProjectSpec* project = nullptr;
  const config::SourceSpec* source = nullptr;
  lake::Lake* lake = nullptr;
  store::OnlineStore* store = nullptr;
  std::unique_ptr<connectors::KafkaConsumer> consumer;
  base::Clock* clock = nullptr;
  StreamOptions options;
  warehouse::DuckDb db;
  connectors::KafkaMessageReader reader;
  int event_time_column = 0;
  std::int64_t lateness = 0;

  std::vector<ViewSink> views;
  Sink lake_sink;
  lake::Manifest lake_version;  // the source's version in the lake this worker last saw
  std::optional<lake::StagingDir> staging;

  // Every partition of the topic: its offsets when this run started (stop_at_end, and whether
  // the group as a whole is done).
  std::map<std::int32_t, std::pair<std::int64_t, std::int64_t>> marks_at_start;
  std::map<std::int32_t, PartitionState> partitions;  // the partitions this worker owns
  base::ProcessingTime poll_time{};                   // when the messages being consumed came
  base::ProcessingTime group_checked{};

  types::Batch waiting_rows;
  types::Batch waiting_spare;  // the next waiting_rows, its buffers kept between batches
  std::vector<Waiting> waiting;
  size_t waiting_reserved = 0;  // rows waiting_rows and `waiting` have room for (ReserveWaiting)
  std::int64_t oldest_waiting = std::numeric_limits<std::int64_t>::max();  // of `waiting`
  std::vector<Waiting> taken;  // the micro-batch being applied (TakeApplicable)
  // TakeRows' sort keys and its ordered copy of `taken`, kept between batches.
  std::vector<std::pair<std::int64_t, std::uint64_t>> order_keys;
  std::vector<Waiting> ordered;
  types::Batch apply_rows;  // registered in DuckDB as stream_apply()
  types::Batch view_rows;   // registered as stream_view(): apply_rows a view has not seen
  // The lake segment being built: applied events (in application order), late events and
  // quarantined messages, each with where it came from.
  types::Batch segment_data, segment_late, segment_quarantine;
  base::ProcessingTime segment_started{};
  std::int64_t segments = 0;
  // The segment being written to Parquet on a thread of its own (the stream goes on meanwhile;
  // a long segment's write stalled it for a second), and what its publish will record.
  types::Batch landing_data, landing_late, landing_quarantine;
  struct Landing {
    std::future<base::Result<std::vector<lake::OutputFile>>> files;
    StreamCursor cursor;
    // Per partition: the offsets [from, seen_through) the segment covers.
    std::vector<std::tuple<std::int32_t, std::int64_t, std::int64_t>> ranges;
    StreamCounts delta;
  };
  std::optional<Landing> landing;

  StreamStatus status;

  State(const config::SourceSpec& s, warehouse::DuckDb d)
      : db(std::move(d)),
        reader(s),
        waiting_rows(reader.NewBatch()),
        waiting_spare(reader.NewBatch()),
        apply_rows(reader.NewBatch()),
        view_rows(reader.NewBatch()),
        segment_data(WithOrigin(reader.NewBatch().schema())),
        segment_late(WithOrigin(reader.NewBatch().schema())),
        segment_quarantine(QuarantineSchema()),
        landing_data(segment_data.schema()),
        landing_late(segment_late.schema()),
        landing_quarantine(segment_quarantine.schema()) {}

  ~State() override {
    if (landing && landing->files.valid()) landing->files.wait();  // it reads landing_*
    // DuckDB first, while the batch buffers are still held: closing it trims glibc's heap
    // (malloc_trim), which would otherwise hand back the hundreds of MB a catch-up's buffers
    // leave free, page by page, just before the process exits and frees them anyway.
    for (ViewSink& v : views) {
      v.over_apply.reset();
      v.over_view.reset();
    }
    warehouse::DuckDb closing = std::move(db);
  }

  std::string Where(std::int32_t p, std::int64_t o) const {
    return "kafka:" + source->topic + "[" + std::to_string(p) + "]@" + std::to_string(o);
  }

  // The watermark below which a partition's events are late (kNoTime: none yet).
  std::int64_t Watermark(const PartitionState& ps) const {
    return ps.newest ? *ps.newest - lateness : kNoTime;
  }

  // Idle: caught up with its high watermark and silent for options.idle_timeout; it then stops
  // holding the other partitions' events back (docs/streaming.md, "Idle partitions").
  bool Idle(const PartitionState& ps, base::ProcessingTime now) const {
    return options.idle_timeout.count() > 0 && ps.newest && ps.next >= ps.high &&
           now - ps.last_message >= options.idle_timeout;
  }

  // Counts one message's outcome for every sink that has not counted it; true when the lake
  // sink counted it (so it lands in the archive).
  bool CountFor(const connectors::KafkaMessage& m, std::int64_t StreamCounts::*field) {
    for (ViewSink& v : views) {
      if (v.sink.Counts(m.partition, m.offset)) ++(v.sink.counts[m.partition].*field);
    }
    if (!lake_sink.Counts(m.partition, m.offset)) return false;
    ++(lake_sink.counts[m.partition].*field);
    return true;
  }

  void Quarantine(const connectors::KafkaMessage& m, const std::string& reason) {
    ++status.counts.quarantined;
    if (CountFor(m, &StreamCounts::quarantined)) {
      segment_quarantine.column(0).AppendString(Where(m.partition, m.offset));
      segment_quarantine.column(1).AppendNull();
      segment_quarantine.column(2).AppendNull();
      segment_quarantine.column(3).AppendString(reason);
      segment_quarantine.column(4).AppendString(RawText(m.payload));
      segment_quarantine.column(5).AppendString(source->topic);
      segment_quarantine.column(6).AppendInt64(m.partition);
      segment_quarantine.column(7).AppendInt64(m.offset);
    }
  }

  // Checks, classifies and buffers one message: read straight into the waiting rows (or the
  // late segment), no row built on the side.
  void Consume(const connectors::KafkaMessage& m) {
    auto owned = partitions.find(m.partition);
    if (owned == partitions.end()) return;  // not ours (any more)
    PartitionState& ps = owned->second;
    if (m.offset < ps.next) return;  // a redelivery after a seek: already consumed
    ps.next = m.offset + 1;
    ps.last_message = poll_time;
    ++status.counts.consumed;
    (void)CountFor(m, &StreamCounts::consumed);
    if (auto why = reader.Parse(m.payload)) {
      Quarantine(m, *why);
      return;
    }
    const std::optional<std::int64_t> event_ts =
        reader.TimeMicros(static_cast<size_t>(event_time_column));
    if (!event_ts) {
      Quarantine(m, "event time '" + *source->event_time + "' is null");
      return;
    }
    const std::int64_t ts = *event_ts;
    // Inside the range the resumed run consumed, only the partition's own watermark decides,
    // exactly as it did then; past it, also what was applied already (after an end-of-input
    // flush, an idle spell, or from a partition seen for the first time).
    const std::int64_t wm = Watermark(ps);
    const bool late = ts < wm || (m.offset >= ps.replay_until && ts < ps.applied_before);
    if (late) {
      ++status.counts.late;
      if (CountFor(m, &StreamCounts::late)) {
        const size_t ncols = waiting_rows.num_columns();
        reader.AppendParsed(segment_late);
        segment_late.column(ncols).AppendInt64(m.partition);
        segment_late.column(ncols + 1).AppendInt64(m.offset);
      }
      return;
    }
    if (!ps.waiting_from) {
      ps.waiting_from = m.offset;
      ps.waiting_newest_before = ps.newest.value_or(kNoTime);
    }
    waiting.push_back({ts, m.offset, ps.newest.value_or(kNoTime),
                       static_cast<std::uint32_t>(waiting_rows.num_rows()), m.partition});
    oldest_waiting = std::min(oldest_waiting, ts);
    reader.AppendParsed(waiting_rows);
    ps.newest = ps.newest ? std::max(*ps.newest, ts) : ts;
  }

  // The events the watermarks have passed (all of them when `flush`), in (event time,
  // partition, offset) order, into `taken` and apply_rows; the others stay waiting (buffers are
  // reused from batch to batch: a catch-up moves millions of rows through them). The
  // frontier is the oldest watermark of the owned partitions that are not idle; with every
  // partition idle, the newest watermark (nothing else can hold events back).
  const std::vector<Waiting>& TakeApplicable(bool flush) {
    std::int64_t frontier = std::numeric_limits<std::int64_t>::max();
    if (!flush) {
      const base::ProcessingTime now = clock->Now();
      std::int64_t idle_frontier = kNoTime;
      bool active = false;
      for (const auto& [p, ps] : partitions) {
        if (Idle(ps, now)) {
          idle_frontier = std::max(idle_frontier, Watermark(ps));
        } else if (ps.newest) {
          frontier = std::min(frontier, Watermark(ps));
          active = true;
        } else if (ps.next < ps.high) {
          // Messages not read yet, none with an event time so far: they may be older than
          // anything seen elsewhere. Only a partition with nothing to read is left out.
          frontier = kNoTime;
          active = true;
        }
      }
      if (!active && idle_frontier != kNoTime) frontier = idle_frontier;
    }
    taken.clear();
    // Nothing to take: a catch-up holding most of the topic back for one slow partition would
    // otherwise go through every waiting event on every poll.
    if (frontier <= oldest_waiting) {
      ClearRows(apply_rows);
    } else {
      size_t kept = 0;
      oldest_waiting = std::numeric_limits<std::int64_t>::max();
      taken.reserve(waiting.size());  // a catch-up batch takes most of them at once
      for (const Waiting& w : waiting) {
        if (w.ts < frontier) {
          taken.push_back(w);
        } else {
          waiting[kept++] = w;
          oldest_waiting = std::min(oldest_waiting, w.ts);
        }
      }
      waiting.resize(kept);
      FindWaitingFronts();
      TakeRows();
    }
    std::int64_t applied_before = kNoTime;
    if (flush) {
      if (!taken.empty()) applied_before = taken.back().ts + 1;
    } else if (frontier != std::numeric_limits<std::int64_t>::max()) {
      applied_before = frontier;
    }
    for (auto& [p, ps] : partitions)
      ps.applied_before = std::max(ps.applied_before, applied_before);
    return taken;
  }

  // Sets each owned partition's first waiting event from `waiting` (kept in arrival order, so
  // the first one of a partition there is its lowest offset).
  void FindWaitingFronts() {
    std::vector<PartitionState*> by_id;
    for (auto& [p, ps] : partitions) {
      ps.waiting_from.reset();
      if (p >= 0) {
        if (by_id.size() <= static_cast<size_t>(p)) by_id.resize(static_cast<size_t>(p) + 1);
        by_id[static_cast<size_t>(p)] = &ps;
      }
    }
    size_t unset = partitions.size();
    for (const Waiting& w : waiting) {
      if (unset == 0) break;
      PartitionState* ps = w.partition >= 0 && static_cast<size_t>(w.partition) < by_id.size()
                               ? by_id[static_cast<size_t>(w.partition)]
                               : nullptr;
      if (ps == nullptr || ps->waiting_from) continue;
      ps->waiting_from = w.offset;
      ps->waiting_newest_before = w.newest_before;
      --unset;
    }
  }

  // Orders `taken` and gathers its rows into apply_rows.
  void TakeRows() {
    // In (event time, partition, offset) order, sorted as 16-byte keys (event time, partition
    // and position in `taken`) instead of whole events: a partition's events arrive, wait and are
    // taken in offset order, so their position orders them as their offset does.
    order_keys.resize(taken.size());
    for (size_t i = 0; i < taken.size(); ++i) {
      order_keys[i] = {taken[i].ts,
                       (std::uint64_t{static_cast<std::uint32_t>(taken[i].partition)} << 32) | i};
    }
    std::sort(order_keys.begin(), order_keys.end());
    ordered.resize(taken.size());
    for (size_t i = 0; i < taken.size(); ++i)
      ordered[i] = taken[order_keys[i].second & 0xffffffffU];
    std::swap(taken, ordered);
    ClearRows(apply_rows);
    GatherRows(apply_rows, waiting_rows, taken.size(), [&](size_t i) { return taken[i].row; });
    // The rows taken stay in waiting_rows, dead, until they are at least half of it: a
    // catch-up that holds most of the topic back (partitions read unevenly) would otherwise
    // copy every waiting row again on every micro-batch.
    if (waiting.empty()) {
      ClearRows(waiting_rows);
    } else if (!taken.empty() && waiting_rows.num_rows() >= 2 * waiting.size()) {
      CompactWaiting();
    }
  }

  // Moves the rows of the events still waiting (`waiting`, a subset of what waited) to the
  // front of waiting_rows.
  void CompactWaiting() {
    ClearRows(waiting_spare);
    GatherRows(waiting_spare, waiting_rows, waiting.size(),
               [&](size_t i) { return waiting[i].row; });
    for (size_t i = 0; i < waiting.size(); ++i)
      waiting[i].row = static_cast<std::uint32_t>(i);
    std::swap(waiting_rows, waiting_spare);
    waiting_reserved = 0;  // the spare's room is not known
  }

  // Makes room in the waiting rows for `backlog` more messages (what the owned partitions still
  // hold), in one step instead of doubling as they arrive: a catch-up buffers hundreds of
  // thousands of events, and each doubling copied every byte held and touched fresh pages.
  // Strings are sized by the average so far. Room only costs address space until it is used.
  void ReserveWaiting(std::int64_t backlog) {
    constexpr size_t kMinRows = 4096;  // below this, doubling costs little and averages mislead
    const size_t rows = waiting_rows.num_rows();
    const size_t cap = std::max<size_t>(options.catch_up_batch_messages, options.max_poll_messages);
    const size_t want =
        rows + std::min(static_cast<size_t>(std::max<std::int64_t>(0, backlog)), cap);
    if (rows < kMinRows || want <= waiting_reserved) return;
    const size_t target = std::max(want, std::min(2 * waiting_reserved, rows + cap));
    for (size_t c = 0; c < waiting_rows.num_columns(); ++c) {
      types::Column& col = waiting_rows.column(c);
      const size_t bytes = col.string_bytes().size();
      col.Reserve(target,
                  bytes + bytes / rows * (target - rows) + bytes / rows * (target - rows) / 8);
    }
    waiting.reserve(target);
    waiting_reserved = target;
  }

  // The cursor of every owned partition as `sink` would commit it now.
  StreamCursor CursorFor(const Sink& sink) const {
    StreamCursor c;
    for (const auto& [p, ps] : partitions) {
      StreamPartitionCursor pc;
      pc.seen_through = ps.next;
      pc.resume = ps.next;
      pc.newest_before_resume = ps.newest;
      if (ps.waiting_from && *ps.waiting_from < pc.resume) {
        pc.resume = *ps.waiting_from;
        pc.newest_before_resume = ps.waiting_newest_before == kNoTime
                                      ? std::nullopt
                                      : std::optional<std::int64_t>(ps.waiting_newest_before);
      }
      auto at_start = sink.applied_at_start.find(p);
      pc.applied_before = std::max(
          ps.applied_before, at_start != sink.applied_at_start.end() ? at_start->second : kNoTime);
      if (auto n = sink.counts.find(p); n != sink.counts.end()) pc.counts = n->second;
      c.partitions[p] = pc;
    }
    // A sink ahead of this run (it committed more before a crash) keeps its position until
    // this run passes it.
    for (auto& [p, pc] : c.partitions) {
      auto it = sink.cursor.partitions.find(p);
      if (it != sink.cursor.partitions.end() && it->second.seen_through > pc.seen_through) {
        pc = it->second;
      }
    }
    return c;
  }

  // The rows of `take` (apply_rows) that `sink` has not been given before, into view_rows;
  // false when that is all of them (then apply_rows serves as is).
  bool SelectUnseen(const Sink& sink, const std::vector<Waiting>& take) {
    if (take.empty() || take.front().ts >= sink.AppliedBound()) return false;
    std::vector<size_t> rows;
    for (size_t i = 0; i < take.size(); ++i) {
      if (!sink.Applied(take[i].partition, take[i].ts)) rows.push_back(i);
    }
    ClearRows(view_rows);
    GatherRows(view_rows, apply_rows, rows.size(), [&](size_t i) { return rows[i]; });
    return true;
  }

  // The side entries committed with a view's states: the marker and each owned partition's
  // cursor.
  std::vector<store::SideEntry> CursorEntries(const StreamCursor& cursor) const {
    std::vector<store::SideEntry> side;
    side.push_back({StreamCursorEntry(source->name), std::string(kCursorMarker)});
    for (const auto& [p, pc] : cursor.partitions) {
      StreamCursor one;
      one.partitions[p] = pc;
      side.push_back({StreamPartitionEntry(source->name, p), EncodeStreamCursor(one)});
    }
    return side;
  }

  base::Status ApplyToView(ViewSink& v, const std::vector<Waiting>& take, std::int64_t* written) {
    const bool subset = SelectUnseen(v.sink, take);
    const types::Batch& rows = subset ? view_rows : apply_rows;
    StateWrites states;
    if (rows.num_rows() > 0) {
      // A view whose SQL only picks columns skips DuckDB (EventsWithoutSql gives what the SQL
      // would); any other runs its prepared SQL.
      auto run_sql = [&]() -> base::Result<types::Batch> {
        if (std::optional<types::Batch> plain = EventsWithoutSql(v.plan, rows)) {
          return std::move(*plain);
        }
        std::optional<warehouse::DuckDb::Prepared>& sql = subset ? v.over_view : v.over_apply;
        if (!sql) {
          SLUICE_ASSIGN_OR_RETURN(
              warehouse::DuckDb::Prepared prepared,
              db.Prepare(EventsSqlOver(v.plan, subset ? "SELECT * FROM stream_view()"
                                                      : "SELECT * FROM stream_apply()")));
          sql.emplace(std::move(prepared));
        }
        return sql->Run();
      };
      auto events = run_sql();
      if (!events.ok()) {
        return base::InvalidArgument("feature view '" + v.spec->name +
                                     "': " + events.status().message());
      }
      ReplayCounts counts;
      std::int64_t created = 0;
      const std::string view_name = v.spec->name;
      StateLookup lookup =
          v.rebuilding ? NextStateLookup(v)
                       : StateLookup([this, view_name](const std::vector<std::string>& keys) {
                           return store->MultiGet(view_name, keys);
                         });
      PartLookup parts =
          v.rebuilding ? NextPartLookup(v)
                       : PartLookup([this, view_name](const std::vector<store::PartKey>& keys) {
                           return store->MultiGetParts(view_name, keys);
                         });
      // The generation being rebuilt keeps its states in memory already (next_states).
      auto updated = UpdateEntityStates(v.plan, *events, lookup, parts, &counts, &created,
                                        v.rebuilding ? nullptr : &v.cache);
      if (!updated.ok()) {
        v.cache.Clear();  // it may hold updates that never reach the store
        return updated.status();
      }
      states = std::move(*updated);
      v.meta.entities += created;
      for (const Waiting& w : take) {
        if (!subset || !v.sink.Applied(w.partition, w.ts)) ++v.sink.counts[w.partition].applied;
      }
      const types::Column& ts = events->column(v.plan.entity_keys.size());
      for (size_t r = 0; r < ts.size(); ++r) {
        if (ts.IsValid(r))
          v.meta.newest_event_micros = std::max(v.meta.newest_event_micros, ts.GetTimestamp(r));
      }
    }
    const StreamCursor cursor = CursorFor(v.sink);
    if (v.rebuilding) {
      v.KeepNext(std::move(states));
      v.sink.cursor = cursor;
      return base::Status::Ok();
    }
    if (states.heads.empty() && cursor == v.sink.cursor && !v.sink.changed) {
      return base::Status::Ok();
    }
    v.meta.source_version = lake_version.id;
    v.meta.materialized_at = base::FormatTime(clock->Now());
    base::Status wrote;
    if (options.consumer_group) {
      // Fenced: written only if this worker's partitions are still its own.
      if (!cursor.partitions.empty()) base::StallPoint("stream.before_group_store_write");
      wrote = FencedOut(store->WriteStateIf(
                            v.spec->name, states.heads, states.parts, v.meta, CursorEntries(cursor),
                            CursorExpectations(source->name, v.sink.cursor, cursor)),
                        v.spec->name, source->topic);
    } else {
      wrote = store->WriteState(v.spec->name, states.heads, states.parts, v.meta,
                                CursorEntries(cursor), /*replace=*/false);
    }
    if (!wrote.ok()) {
      v.cache.Clear();  // it holds this batch's states, which the store does not
      return wrote;
    }
    base::KillPoint("stream.after_store_write");
    v.sink.cursor = cursor;
    v.sink.changed = false;
    *written += static_cast<std::int64_t>(states.heads.size());
    return base::Status::Ok();
  }

  void AddToSegment(const std::vector<Waiting>& take) {
    const bool subset = SelectUnseen(lake_sink, take);
    const size_t ncols = apply_rows.num_columns();
    types::Batch& rows = subset ? view_rows : apply_rows;
    // An empty segment takes the batch's columns instead of a copy of them (a catch-up's batch
    // holds up to millions of rows); the batch goes on with the segment's emptied buffers.
    const bool take_columns = segment_data.num_rows() == 0;
    for (size_t c = 0; c < ncols; ++c) {
      if (take_columns) {
        std::swap(segment_data.column(c), rows.column(c));
        rows.column(c).Clear();
      } else {
        segment_data.column(c).AppendColumn(rows.column(c));
      }
    }
    for (const Waiting& w : take) {
      if (subset && lake_sink.Applied(w.partition, w.ts)) continue;
      segment_data.column(ncols).AppendInt64(w.partition);
      segment_data.column(ncols + 1).AppendInt64(w.offset);
      ++lake_sink.counts[w.partition].applied;
    }
  }

  std::int64_t SegmentRows() const {
    return static_cast<std::int64_t>(segment_data.num_rows() + segment_late.num_rows() +
                                     segment_quarantine.num_rows());
  }

  // Writes `rows` to a Parquet file in the staging folder and stores it in the lake (zstd at
  // level 1, as the file ingest writes the lake: as cheap as snappy, smaller than level 3).
  // Runs on the landing thread: touches nothing but `rows`, the staging folder and the lake's
  // object store.
  base::Result<lake::OutputFile> StoreSegmentFile(const std::string& name, const types::Batch& rows,
                                                  std::int64_t sequence) {
    const fs::path file = staging->path() / (name + "-" + std::to_string(sequence) + ".parquet");
    SLUICE_ASSIGN_OR_RETURN(std::int64_t bytes, lake::WriteParquet(rows, file));
    SLUICE_ASSIGN_OR_RETURN(std::string sha, lake->PutObject(file, /*move=*/true));
    return lake::OutputFile{name, sha, static_cast<std::uint64_t>(bytes),
                            static_cast<std::int64_t>(rows.num_rows())};
  }

  // Lands the segment being built (if it holds anything or the cursor moved) as a new version
  // of the source's dataset: the current version's files plus this segment's, and the current
  // cursor with this worker's partitions moved on. Read and published under the dataset's lock
  // (Lake::PublishOnto), so workers of one group each add their segments and never drop
  // another's; a partition archived by another worker since it arrived here stops this one.
  //
  // The segment's Parquet files are written on a thread of their own; the stream goes on and the
  // version is published once they are stored (FinishLanding, polled between micro-batches), or
  // at once when `wait`. One segment is written at a time, so versions are published in order. A
  // kill before the publish leaves the lake at the previous version: its cursor says where the
  // archive resumes, as when the kill came before the files were written.
  base::Status LandSegment(bool wait) {
    SLUICE_RETURN_IF_ERROR(FinishLanding(/*block=*/true));
    Landing job;
    job.cursor = CursorFor(lake_sink);
    if (SegmentRows() == 0 && job.cursor == lake_sink.cursor) return base::Status::Ok();
    // The offsets this segment covers, partition by partition: each range starts where the
    // previous segment's ended, so the archive has no gap and no overlap. (Events of a range
    // still waiting for the watermark land with a later segment.)
    for (const auto& [p, pc] : job.cursor.partitions) {
      std::int64_t from = 0;
      StreamCounts landed;
      if (auto it = lake_sink.cursor.partitions.find(p); it != lake_sink.cursor.partitions.end()) {
        from = it->second.seen_through;
        landed = it->second.counts;
      } else if (auto st = partitions.find(p); st != partitions.end()) {
        from = st->second.start;
      }
      job.delta.applied += pc.counts.applied - landed.applied;
      job.delta.quarantined += pc.counts.quarantined - landed.quarantined;
      job.delta.late += pc.counts.late - landed.late;
      if (pc.seen_through > from) job.ranges.emplace_back(p, from, pc.seen_through);
    }
    // The rows go to the landing batches; the next segment reuses the landed one's buffers.
    std::swap(segment_data, landing_data);
    std::swap(segment_late, landing_late);
    std::swap(segment_quarantine, landing_quarantine);
    for (types::Batch* b : {&segment_data, &segment_late, &segment_quarantine})
      ClearRows(*b);
    segment_started = clock->Now();
    const std::int64_t sequence = segments++;
    auto write = [this, sequence]() -> base::Result<std::vector<lake::OutputFile>> {
      std::vector<lake::OutputFile> outputs;
      struct Part {
        const char* name;
        const types::Batch* rows;
      };
      for (const Part& part : {Part{"data", &landing_data}, Part{"late", &landing_late},
                               Part{"quarantine", &landing_quarantine}}) {
        if (part.rows->num_rows() == 0) continue;
        SLUICE_ASSIGN_OR_RETURN(lake::OutputFile out,
                                StoreSegmentFile(part.name, *part.rows, sequence));
        outputs.push_back(std::move(out));
      }
      return outputs;
    };
    try {
      job.files = std::async(std::launch::async, write);
    } catch (const std::system_error&) {
      job.files = std::async(std::launch::deferred, write);  // no thread to be had: here, later
    }
    landing.emplace(std::move(job));
    if (wait) return FinishLanding(/*block=*/true);
    return base::Status::Ok();
  }

  // Publishes the segment whose files were being written, once they are stored (waiting for
  // them when `block`): a new version of the source's dataset, the current version's files
  // plus the segment's, and the current cursor with this worker's partitions moved on. Read
  // and published under the dataset's lock (Lake::PublishOnto), so workers of one group each
  // add their segments and never drop another's; a partition archived by another worker since
  // it arrived here stops this one.
  base::Status FinishLanding(bool block) {
    if (!landing) return base::Status::Ok();
    if (!block && landing->files.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
      return base::Status::Ok();
    }
    Landing job = std::move(*landing);
    landing.reset();
    SLUICE_ASSIGN_OR_RETURN(std::vector<lake::OutputFile> outputs, job.files.get());
    const StreamCursor& cursor = job.cursor;
    const std::string first_sha = outputs.empty() ? std::string() : outputs.front().sha256;
    std::vector<lake::InputFile> inputs;
    for (const auto& [p, from, through] : job.ranges) {
      inputs.push_back({"kafka:" + source->topic + "[" + std::to_string(p) + "]@" +
                            std::to_string(from) + ".." + std::to_string(through - 1),
                        first_sha, 0});
    }
    const StreamCounts& delta = job.delta;
    auto build = [&](const std::optional<lake::Manifest>& current) -> base::Result<lake::Manifest> {
      if (!current) return base::Internal("dataset '" + source->name + "' vanished from the lake");
      SLUICE_ASSIGN_OR_RETURN(StreamCursor merged,
                              DecodeStreamCursor(current->cursor ? current->cursor->value : "",
                                                 "lake version " + current->id));
      for (const auto& [p, pc] : cursor.partitions) {
        auto now = merged.partitions.find(p);
        auto mine = lake_sink.cursor.partitions.find(p);
        const bool same =
            (now == merged.partitions.end()) == (mine == lake_sink.cursor.partitions.end()) &&
            (now == merged.partitions.end() || now->second == mine->second);
        if (!same) {
          return base::FailedPrecondition(
              "partition " + std::to_string(p) + " of topic '" + source->topic +
              "' was archived by another worker since this one took it (lake version " +
              current->id.substr(0, 12) +
              "): the group gave it to someone else; this worker stops");
        }
        merged.partitions[p] = pc;
      }
      lake::Manifest m = *current;
      m.id.clear();
      m.checksum.clear();
      m.parents = {current->id};
      for (lake::OutputFile& out : outputs)
        m.outputs.push_back(out);
      for (lake::InputFile& in : inputs)
        m.inputs.push_back(in);
      m.rows.loaded += delta.applied;
      m.rows.quarantined += delta.quarantined + delta.late;
      m.rows.read += delta.applied + delta.quarantined + delta.late;
      m.cursor = lake::Cursor{"kafka", EncodeStreamCursor(merged)};
      m.created_at = base::FormatTime(clock->Now());
      return m;
    };
    base::KillPoint("stream.before_segment_publish");
    SLUICE_ASSIGN_OR_RETURN(lake::Lake::PublishResult published,
                            lake->PublishOnto(source->name, build));
    base::KillPoint("stream.after_segment_publish");
    lake_version = std::move(published.manifest);
    lake_sink.cursor = cursor;
    ++status.segments;
    return base::Status::Ok();
  }

  // Applies what the watermarks allow (everything when `flush`), commits every view and, when
  // due (or `land`), lands the lake segment.
  base::Status Step(bool flush, bool land) {
    const auto started = clock->Now();
    const std::vector<Waiting>& take = TakeApplicable(flush);
    std::int64_t written = 0;
    const auto store_started = clock->Now();
    for (ViewSink& v : views)
      SLUICE_RETURN_IF_ERROR(ApplyToView(v, take, &written));
    for (ViewSink& v : views) {
      if (v.rebuilding && CaughtUp()) SLUICE_RETURN_IF_ERROR(SwitchGeneration(v));
    }
    const auto stored = clock->Now();
    status.store_write_seconds = std::chrono::duration<double>(stored - store_started).count();
    status.freshness_micros.clear();
    for (const Waiting& w : take)
      status.freshness_micros.push_back(stored.time_since_epoch().count() - w.ts);
    status.counts.applied += static_cast<std::int64_t>(take.size());
    AddToSegment(take);
    if (land || SegmentRows() >= options.segment_rows ||
        (SegmentRows() > 0 && clock->Now() - segment_started >= options.segment_age)) {
      SLUICE_RETURN_IF_ERROR(LandSegment(/*wait=*/land));
    }
    status.buffered = static_cast<std::int64_t>(waiting.size());
    status.last_batch_seconds = std::chrono::duration<double>(clock->Now() - started).count();
    ++status.batches;
    return base::Status::Ok();
  }

  // Every owned partition consumed through the end offset it had when this run started.
  bool CaughtUp() const {
    if (partitions.empty()) return false;
    for (const auto& [p, ps] : partitions) {
      auto it = marks_at_start.find(p);
      if (it != marks_at_start.end() && ps.next < it->second.second) return false;
    }
    return true;
  }

  // Replays the archive (the lake's current version: every event the online path applied, in
  // the order it applied them) into a rebuilding view's new generation, with the SQL a replay
  // uses; the view then goes on from the archive's cursor like any sink.
  base::Status ReplayArchive(ViewSink& v) {
    v.archive_replayed = true;
    if (lake->DataFiles(lake_version).empty()) return base::Status::Ok();
    auto events = db.Query(EventsSql(v.plan, *lake, lake_version, 0, 1));
    if (!events.ok()) {
      return base::InvalidArgument("feature view '" + v.spec->name +
                                   "', replaying the archive: " + events.status().message());
    }
    ReplayCounts counts;
    std::int64_t created = 0;
    SLUICE_ASSIGN_OR_RETURN(auto states, UpdateEntityStates(v.plan, *events, NextStateLookup(v),
                                                            NextPartLookup(v), &counts, &created));
    v.KeepNext(std::move(states));
    v.meta.entities += created;
    const types::Column& ts = events->column(v.plan.entity_keys.size());
    for (size_t r = 0; r < ts.size(); ++r) {
      if (ts.IsValid(r))
        v.meta.newest_event_micros = std::max(v.meta.newest_event_micros, ts.GetTimestamp(r));
    }
    status.rebuilt_from_archive += static_cast<std::int64_t>(events->num_rows());
    return base::Status::Ok();
  }

  // Replaces the old generation of a rebuilt view with the new one, its meta and its cursors,
  // in one store write: readers go from the old generation to the new one at once.
  base::Status SwitchGeneration(ViewSink& v) {
    std::vector<std::pair<std::string, std::string>> states;
    states.reserve(v.next_states.size());
    for (auto& [entity, state] : v.next_states)
      states.emplace_back(entity, std::move(state));
    std::sort(states.begin(), states.end());
    std::vector<store::PartWrite> parts;
    parts.reserve(v.next_parts.size());
    for (auto& [key, value] : v.next_parts)
      parts.push_back({key.first, key.second, std::move(value)});
    const StreamCursor cursor = CursorFor(v.sink);
    v.meta.source_version = lake_version.id;
    v.meta.materialized_at = base::FormatTime(clock->Now());
    base::KillPoint("stream.before_generation_switch");
    SLUICE_RETURN_IF_ERROR(store->WriteState(v.spec->name, states, parts, v.meta,
                                             CursorEntries(cursor),
                                             /*replace=*/true));
    base::KillPoint("stream.after_generation_switch");
    v.sink.cursor = cursor;
    v.sink.changed = false;
    v.rebuilding = false;
    v.cache.Clear();
    v.next_states.clear();
    v.next_parts.clear();
    status.rebuilt.push_back(v.spec->name);
    base::LogInfo("stream " + source->name + ": feature view '" + v.spec->name +
                  "' switched to its rebuilt generation (" + std::to_string(states.size()) +
                  " entities)");
    return base::Status::Ok();
  }

  // The stored cursor of partition `p` for view `v` (nullopt: none).
  base::Result<std::optional<StreamPartitionCursor>> StoredCursor(const ViewSink& v,
                                                                  std::int32_t p) {
    SLUICE_ASSIGN_OR_RETURN(std::optional<std::string> text,
                            store->ReadSide(v.spec->name, StreamPartitionEntry(source->name, p)));
    if (!text) return std::optional<StreamPartitionCursor>();
    SLUICE_ASSIGN_OR_RETURN(StreamCursor c,
                            DecodeStreamCursor(*text, "stream cursor of view '" + v.spec->name +
                                                          "', partition " + std::to_string(p)));
    auto it = c.partitions.find(p);
    if (it == c.partitions.end()) return std::optional<StreamPartitionCursor>();
    return std::optional<StreamPartitionCursor>(it->second);
  }

  // The lake's current version of the source and its cursor (every partition).
  base::Result<StreamCursor> CurrentLakeCursor() {
    SLUICE_ASSIGN_OR_RETURN(std::optional<lake::Manifest> current, lake->Current(source->name));
    if (!current) return base::Internal("dataset '" + source->name + "' vanished from the lake");
    if (!current->cursor || current->cursor->column != "kafka") {
      return base::FailedPrecondition("dataset '" + source->name +
                                      "' in the lake was not written by `sluice stream` (" +
                                      "version " + current->id.substr(0, 12) +
                                      "); a kafka source's dataset is its stream archive");
    }
    SLUICE_ASSIGN_OR_RETURN(
        StreamCursor c, DecodeStreamCursor(current->cursor->value, "lake version " + current->id));
    lake_version = std::move(*current);
    return c;
  }

  // Takes `ids` over: each sink's stored cursor for them, and where to start reading each (the
  // earliest sink's resume offset; the topic's start when a sink has none).
  base::Result<std::vector<std::pair<std::int32_t, std::optional<std::int64_t>>>> Take(
      const std::vector<std::int32_t>& ids) {
    SLUICE_RETURN_IF_ERROR(FinishLanding(/*block=*/true));  // the lake's cursor, published
    // Partitions arriving may have been written by another worker meanwhile: every cached
    // state is read again from the store.
    for (ViewSink& v : views)
      v.cache.Clear();
    SLUICE_ASSIGN_OR_RETURN(StreamCursor lake_cursor, CurrentLakeCursor());
    if (options.consumer_group) {
      // Other workers wrote the views since: start from their meta, not this worker's copy.
      for (ViewSink& v : views) {
        SLUICE_ASSIGN_OR_RETURN(std::optional<store::ViewMeta> meta, store->Meta(v.spec->name));
        if (meta && meta->definition_hash == v.meta.definition_hash) {
          v.meta.entities = std::max(v.meta.entities, meta->entities);
          v.meta.newest_event_micros =
              std::max(v.meta.newest_event_micros, meta->newest_event_micros);
        }
      }
    }
    for (ViewSink& v : views) {
      if (v.rebuilding && !v.archive_replayed) SLUICE_RETURN_IF_ERROR(ReplayArchive(v));
    }
    std::vector<std::pair<std::int32_t, std::optional<std::int64_t>>> starts;
    for (std::int32_t p : ids) {
      if (partitions.count(p)) continue;
      std::optional<StreamPartitionCursor> earliest;
      bool fresh = false;
      auto lake_entry = lake_cursor.partitions.find(p);
      if (lake_entry == lake_cursor.partitions.end()) {
        lake_sink.Arrive(p, std::nullopt);
        fresh = true;
      } else {
        lake_sink.Arrive(p, lake_entry->second);
        earliest = lake_entry->second;
      }
      for (ViewSink& v : views) {
        // A rebuilding view holds what the archive holds: it goes on from the lake's cursor.
        std::optional<StreamPartitionCursor> stored;
        if (v.rebuilding) {
          if (lake_entry != lake_cursor.partitions.end()) stored = lake_entry->second;
        } else {
          SLUICE_ASSIGN_OR_RETURN(stored, StoredCursor(v, p));
        }
        v.sink.Arrive(p, stored);
        if (!stored) {
          fresh = true;
        } else if (!earliest || stored->seen_through < earliest->seen_through) {
          earliest = stored;
        }
      }
      SLUICE_ASSIGN_OR_RETURN(auto marks, consumer->QueryWatermarks(p, kMetadataTimeout));
      PartitionState ps;
      ps.high = marks.second;
      auto at_start = marks_at_start.find(p);
      ps.end = options.stop_at_end && at_start != marks_at_start.end() ? at_start->second.second
                                                                       : marks.second;
      if (fresh) {
        // A sink with nothing stored starts from the topic's start; the others skip what they
        // hold (they counted and applied it before).
        ps.next =
            source->start == config::KafkaStart::kLatest && !earliest ? marks.second : marks.first;
      } else {
        ps.next = earliest->resume;
        ps.newest = earliest->newest_before_resume;
        ps.replay_until = earliest->seen_through;
        ps.applied_before = earliest->applied_before;
      }
      if (ps.next < marks.first) {
        return base::FailedPrecondition(
            "partition " + std::to_string(p) + " of topic '" + source->topic +
            "' starts at offset " + std::to_string(marks.first) +
            " but the stream must resume at " + std::to_string(ps.next) +
            ": the messages in between were deleted by retention");
      }
      ps.start = ps.next;
      ps.last_message = clock->Now();
      partitions[p] = ps;
      starts.emplace_back(p, ps.next);
    }
    return starts;
  }

  // Gives `ids` up: commits everything (views and the lake segment), then forgets them and the
  // events of them still waiting; their next owner reads those again from the cursors.
  base::Status GiveUp(const std::vector<std::int32_t>& ids) {
    SLUICE_RETURN_IF_ERROR(Step(/*flush=*/false, /*land=*/true));
    // Their entities' next writer is another worker.
    for (ViewSink& v : views)
      v.cache.Clear();
    auto gone = [&](std::int32_t p) { return std::find(ids.begin(), ids.end(), p) != ids.end(); };
    const size_t before = waiting.size();
    std::erase_if(waiting, [&](const Waiting& w) { return gone(w.partition); });
    oldest_waiting = std::numeric_limits<std::int64_t>::max();
    for (const Waiting& w : waiting)
      oldest_waiting = std::min(oldest_waiting, w.ts);
    if (waiting.size() != before) CompactWaiting();
    FindWaitingFronts();
    for (std::int32_t p : ids) {
      partitions.erase(p);
      lake_sink.Leave(p);
      for (ViewSink& v : views)
        v.sink.Leave(p);
      status.lag.erase(p);
    }
    status.buffered = static_cast<std::int64_t>(waiting.size());
    return base::Status::Ok();
  }

  base::Result<std::vector<std::pair<std::int32_t, std::optional<std::int64_t>>>> OnAssigned(
      const std::vector<std::int32_t>& ids) override {
    base::LogInfo("stream " + source->name + ": the group gave this worker " +
                  std::to_string(ids.size()) + " partition(s) of '" + source->topic + "'");
    return Take(ids);
  }

  base::Status OnRevoked(const std::vector<std::int32_t>& ids) override {
    base::LogInfo("stream " + source->name + ": giving " + std::to_string(ids.size()) +
                  " partition(s) of '" + source->topic + "' back to the group");
    return GiveUp(ids);
  }

  // Whether every partition this worker does not own was consumed, by whoever owns it, through
  // the end offset it had when this run started, in every sink (stop_at_end in a group).
  base::Result<bool> OthersDone() {
    SLUICE_RETURN_IF_ERROR(FinishLanding(/*block=*/true));
    SLUICE_ASSIGN_OR_RETURN(StreamCursor lake_cursor, CurrentLakeCursor());
    for (const auto& [p, marks] : marks_at_start) {
      if (partitions.count(p) || marks.second <= marks.first) continue;
      auto it = lake_cursor.partitions.find(p);
      if (it == lake_cursor.partitions.end() || it->second.resume < marks.second) return false;
      for (const ViewSink& v : views) {
        SLUICE_ASSIGN_OR_RETURN(std::optional<StreamPartitionCursor> stored, StoredCursor(v, p));
        if (!stored || stored->resume < marks.second) return false;
      }
    }
    return true;
  }
};

StreamRuntime::StreamRuntime(std::unique_ptr<State> state) : s_(std::move(state)) {}
StreamRuntime::~StreamRuntime() {
  if (s_ && s_->consumer) s_->consumer->Unsubscribe();
}

void StreamRuntime::EndBeforeExit(std::unique_ptr<StreamRuntime> runtime) {
  if (!runtime || !runtime->s_) return;
  State* s = runtime->s_.release();
  if (s->consumer) {
    s->consumer->Unsubscribe();
    s->consumer.reset();  // closes it: the group hears this worker left
  }
  if (s->landing && s->landing->files.valid()) s->landing->files.wait();
  s->staging.reset();  // removes the staging folder
#if defined(__SANITIZE_ADDRESS__)
  delete s;  // a leak checker would report what is left to the exit
#endif
}

base::Result<std::unique_ptr<StreamRuntime>> StreamRuntime::Open(
    const config::ProjectSpec& project, const config::SourceSpec& source,
    const std::vector<const config::FeatureViewSpec*>& views, lake::Lake& lake,
    store::OnlineStore& store, std::unique_ptr<connectors::KafkaConsumer> consumer,
    base::Clock& clock, const StreamOptions& options) {
  if (!source.event_time) {
    return base::InvalidArgument("kafka source '" + source.name +
                                 "' needs an event_time column to be streamed (events are "
                                 "ordered by it)");
  }
  warehouse::DuckDb::Options db_options;
  db_options.threads = 1;  // micro-batches are small; one thread keeps row order trivially
  SLUICE_ASSIGN_OR_RETURN(warehouse::DuckDb db, warehouse::OpenFeatureSqlDb(db_options));
  auto s = std::make_unique<State>(source, std::move(db));
  s->project = &project;
  s->source = &source;
  s->lake = &lake;
  s->store = &store;
  s->consumer = std::move(consumer);
  s->clock = &clock;
  s->options = options;
  s->lateness = source.allowed_lateness.count();
  const auto& fields = s->waiting_rows.schema().fields();
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == *source.event_time) s->event_time_column = static_cast<int>(i);
  }
  SLUICE_RETURN_IF_ERROR(s->db.RegisterBatch("stream_apply", &s->apply_rows));
  SLUICE_RETURN_IF_ERROR(s->db.RegisterBatch("stream_view", &s->view_rows));

  // The lake: the source's dataset, with an empty first version so views can name it (under
  // the dataset's lock: workers of a group may start at once).
  SLUICE_ASSIGN_OR_RETURN(
      lake::Lake::PublishResult first,
      lake.PublishOnto(
          source.name,
          [&](const std::optional<lake::Manifest>& current) -> base::Result<lake::Manifest> {
            if (current) return *current;  // the same id: nothing is published
            lake::Manifest m;
            m.dataset = source.name;
            m.kind = "source";
            SLUICE_ASSIGN_OR_RETURN(m.schema, source.Schema());
            m.definition_hash = "stream:" + source.topic;
            m.cursor = lake::Cursor{"kafka", EncodeStreamCursor(StreamCursor{})};
            m.created_at = base::FormatTime(clock.Now());
            return m;
          }));
  (void)first;
  SLUICE_RETURN_IF_ERROR(s->CurrentLakeCursor().status());
  SLUICE_ASSIGN_OR_RETURN(lake::StagingDir staging, lake::StagingDir::Create(lake.root()));
  s->staging.emplace(std::move(staging));
  s->segment_started = clock.Now();

  // The views: planned against the declared schema (the same plan as over any version of the
  // archive, whose schema it is); their cursors are read as partitions arrive.
  for (const config::FeatureViewSpec* spec : views) {
    ViewSink v;
    v.spec = spec;
    v.cache = EntityStateCache(options.state_cache_bytes);
    SLUICE_ASSIGN_OR_RETURN(v.plan, LoadPlan(project, *spec, lake, s->lake_version, s->db));
    SLUICE_ASSIGN_OR_RETURN(std::optional<store::ViewMeta> meta, store.Meta(spec->name));
    SLUICE_ASSIGN_OR_RETURN(std::optional<std::string> marker,
                            store.ReadSide(spec->name, StreamCursorEntry(source.name)));
    if (meta) {
      if (!marker) {
        return base::FailedPrecondition(
            "feature view '" + spec->name + "' in " + store.Describe() +
            " holds states that `sluice stream` did not write (no stream cursor); remove them "
            "before streaming into it");
      }
      if (*marker != kCursorMarker) {
        return base::FailedPrecondition(
            "feature view '" + spec->name + "' in " + store.Describe() +
            " was streamed by an earlier sluice (one cursor for the whole stream); remove its "
            "online state and stream again");
      }
      if (meta->definition_hash != v.plan.definition_hash ||
          meta->encoding_version != kStateEncoding) {
        if (options.consumer_group) {
          return base::FailedPrecondition(
              "feature view '" + spec->name +
              "' changed since its online state was streamed (definition or state encoding); "
              "rebuilding it into a new generation takes one worker with every partition, and "
              "this worker shares them with its consumer group (docs/streaming.md, "
              "\"Reprocessing\"): stop every worker of the group, run `sluice stream -p " +
              project.dir.string() +
              " --no-group --stop-at-end` once (its summary says the view was rebuilt into a new "
              "generation; readers switch then), and start the group's workers again");
        }
        // Rebuilt from the archive and the topic's tail; the old generation stays readable
        // until the new one replaces it.
        v.rebuilding = true;
        v.meta = store::ViewMeta{};
        v.meta.definition_hash = v.plan.definition_hash;
        v.meta.encoding_version = kStateEncoding;
        v.sink.changed = true;
        base::LogInfo("stream " + source.name + ": feature view '" + spec->name +
                      "' changed: rebuilding it into a new generation");
      } else {
        v.meta = *meta;
      }
    } else {
      v.meta.definition_hash = v.plan.definition_hash;
      v.meta.encoding_version = kStateEncoding;
      v.sink.changed = true;  // written at the first step, so `get` finds the view
    }
    s->views.push_back(std::move(v));
  }

  // Every partition's offsets now; then the partitions: all of them, or those the group gives.
  SLUICE_ASSIGN_OR_RETURN(int partition_count, s->consumer->PartitionCount(kMetadataTimeout));
  std::vector<std::int32_t> all;
  for (std::int32_t p = 0; p < partition_count; ++p) {
    SLUICE_ASSIGN_OR_RETURN(auto marks, s->consumer->QueryWatermarks(p, kMetadataTimeout));
    s->marks_at_start[p] = marks;
    all.push_back(p);
  }
  if (options.consumer_group) {
    SLUICE_RETURN_IF_ERROR(s->consumer->Subscribe(s.get()));
  } else {
    SLUICE_ASSIGN_OR_RETURN(auto starts, s->Take(all));
    SLUICE_RETURN_IF_ERROR(s->consumer->Assign(starts));
  }
  return std::unique_ptr<StreamRuntime>(new StreamRuntime(std::move(s)));
}

base::Status StreamRuntime::Run(const std::atomic<bool>& stop,
                                const std::function<void(const StreamStatus&)>& report) {
  State& s = *s_;
  connectors::KafkaPoll poll;
  auto at_end = [&] {
    for (const auto& [p, ps] : s.partitions) {
      if (ps.next < ps.end) return false;
    }
    return true;
  };
  // In a group, how often a worker done with its own partitions looks whether the others are.
  constexpr auto kGroupCheckEvery = std::chrono::milliseconds(250);
  // Views written for the first time at once, so `get` finds them even before any event.
  SLUICE_RETURN_IF_ERROR(s.Step(/*flush=*/false, /*land=*/false));
  MicroBatchGate gate({.messages = s.options.max_poll_messages,
                       .linger = s.options.batch_linger,
                       .catch_up_messages = s.options.catch_up_batch_messages,
                       .catch_up_linger = s.options.catch_up_linger});
  while (true) {
    if (s.options.stop_at_end && at_end()) {
      // The input of the partitions owned is over: apply what waits and land the archive. A
      // worker of a group then stops once every other partition is done too (its owner may
      // have died: the group gives it here after the session timeout).
      SLUICE_RETURN_IF_ERROR(s.Step(/*flush=*/true, /*land=*/true));
      if (!s.options.consumer_group) break;
      const auto now = s.clock->Now();
      if (now - s.group_checked >= kGroupCheckEvery) {
        s.group_checked = now;
        SLUICE_ASSIGN_OR_RETURN(bool done, s.OthersDone());
        if (done) break;
      }
    }
    if (stop.load()) {
      SLUICE_RETURN_IF_ERROR(s.Step(/*flush=*/false, /*land=*/true));
      break;
    }
    SLUICE_RETURN_IF_ERROR(s.consumer->Poll(
        gate.PollMax(), gate.PollWait(s.clock->Now(), s.options.poll_timeout), &poll));
    s.poll_time = s.clock->Now();
    for (const connectors::KafkaMessage& m : poll.messages)
      s.Consume(m);
    // How far behind the owned partitions are (their lag, from the high watermarks of the
    // fetches so far).
    std::int64_t backlog = 0;
    for (auto& [p, ps] : s.partitions) {
      if (auto high = s.consumer->CachedHighWatermark(p)) {
        ps.high = std::max(ps.high, *high);
        ps.end = s.options.stop_at_end ? ps.end : std::max(ps.end, *high);
        s.status.lag[p] = std::max<std::int64_t>(0, std::max(ps.end, *high) - ps.next);
      } else {
        s.status.lag[p] = std::max<std::int64_t>(0, ps.end - ps.next);
      }
      backlog += std::max<std::int64_t>(0, ps.high - ps.next);
    }
    if (backlog > static_cast<std::int64_t>(s.options.max_poll_messages)) s.ReserveWaiting(backlog);
    // Applied when full, when its linger is over, or when the topic went quiet (nothing more
    // came within the wait: no reason to hold what arrived).
    if (gate.Add(poll.messages.size(), s.clock->Now(), backlog)) {
      gate.Applied();
      SLUICE_RETURN_IF_ERROR(s.Step(/*flush=*/false, /*land=*/false));
      std::vector<std::pair<std::int32_t, std::int64_t>> offsets;
      for (const auto& [p, ps] : s.partitions)
        offsets.emplace_back(p, ps.next);
      s.consumer->CommitInformational(offsets);
    } else if (gate.gathered() == 0 && !s.waiting.empty() && s.options.idle_timeout.count() > 0) {
      // A partition may have gone idle and stopped holding events back.
      SLUICE_RETURN_IF_ERROR(s.Step(/*flush=*/false, /*land=*/false));
    } else if (gate.gathered() == 0 && s.SegmentRows() > 0 &&
               s.clock->Now() - s.segment_started >= s.options.segment_age) {
      SLUICE_RETURN_IF_ERROR(s.LandSegment(/*wait=*/false));
    }
    SLUICE_RETURN_IF_ERROR(s.FinishLanding(/*block=*/false));
    if (report) report(s.status);
    s.status.freshness_micros.clear();  // reported once
  }
  for (auto& [p, ps] : s.partitions)
    s.status.lag[p] = std::max<std::int64_t>(0, ps.end - ps.next);
  if (report) report(s.status);
  return base::Status::Ok();
}

}  // namespace sluice::engine
