#include "engine/stream_runtime.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <limits>
#include <numeric>
#include <optional>
#include <tuple>

#include "base/kill_point.h"
#include "base/log.h"
#include "base/time.h"
#include "connectors/ingest.h"
#include "connectors/kafka_message_reader.h"
#include "engine/entity_state.h"
#include "engine/materialization.h"
#include "engine/view_loader.h"
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

// One event waiting for the watermark.
struct Waiting {
  std::int64_t ts = 0;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::optional<std::int64_t> newest_before;  // the partition's newest event time before it
  size_t row = 0;                             // in State::waiting_rows
};

// Where one partition stands in this run.
struct PartitionState {
  std::int64_t next = 0;               // the next offset to consume
  std::optional<std::int64_t> newest;  // newest event time consumed
  std::int64_t replay_until = 0;       // offsets below were consumed by the run resumed
  std::int64_t end = 0;                // the high watermark at start (stop_at_end)
  std::int64_t start = 0;              // where this run started reading
  std::int64_t high = 0;               // the newest high watermark known
};

// Something the stream writes to, with the cursor it was at when this run started: messages
// below `seen_at_start` were counted for it before, events older than `applied_at_start` were
// applied to it before.
struct Sink {
  StreamCursor cursor;
  std::map<std::int32_t, std::int64_t> seen_at_start;
  std::int64_t applied_at_start = kNoTime;
  bool changed = false;

  bool Counts(std::int32_t partition, std::int64_t offset) const {
    auto it = seen_at_start.find(partition);
    return it == seen_at_start.end() || offset >= it->second;
  }
};

struct ViewSink {
  const config::FeatureViewSpec* spec = nullptr;
  FeatureViewPlan plan;
  std::string events_sql;
  Sink sink;
  store::ViewMeta meta;
  // The view's row SQL over stream_apply() and over stream_view(), planned at first use and
  // rerun on every micro-batch (planning cost more than running on a small batch).
  std::optional<warehouse::DuckDb::Prepared> over_apply, over_view;
};

}  // namespace

std::string StreamCursorEntry(const std::string& source) {
  return "stream." + source;
}

struct StreamRuntime::State {
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
  lake::Manifest lake_version;  // the source's current version in the lake
  std::optional<lake::StagingDir> staging;

  std::map<std::int32_t, PartitionState> partitions;
  std::int64_t applied_before = kNoTime;  // A: every non-late event older than it is applied

  types::Batch waiting_rows;
  types::Batch waiting_spare;  // the next waiting_rows, its buffers kept between batches
  std::vector<Waiting> waiting;
  std::vector<Waiting> taken;  // the micro-batch being applied (TakeApplicable)
  types::Batch apply_rows;     // registered in DuckDB as stream_apply()
  types::Batch view_rows;      // registered as stream_view(): apply_rows a view has not seen
  // The lake segment being built: applied events (in application order), late events and
  // quarantined messages, each with where it came from.
  types::Batch segment_data, segment_late, segment_quarantine;
  base::ProcessingTime segment_started{};
  std::int64_t segments = 0;

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
        segment_quarantine(QuarantineSchema()) {}

  std::string Where(std::int32_t p, std::int64_t o) const {
    return "kafka:" + source->topic + "[" + std::to_string(p) + "]@" + std::to_string(o);
  }

  // The watermark below which a partition's events are late (kNoTime: none yet).
  std::int64_t Watermark(const PartitionState& ps) const {
    return ps.newest ? *ps.newest - lateness : kNoTime;
  }

  void Quarantine(const connectors::KafkaMessage& m, const std::string& reason) {
    ++status.counts.quarantined;
    for (ViewSink& v : views) {
      if (v.sink.Counts(m.partition, m.offset)) ++v.sink.cursor.counts.quarantined;
    }
    if (lake_sink.Counts(m.partition, m.offset)) {
      ++lake_sink.cursor.counts.quarantined;
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
    PartitionState& ps = partitions[m.partition];
    if (m.offset < ps.next) return;  // a redelivery after a seek: already consumed
    ps.next = m.offset + 1;
    ++status.counts.consumed;
    for (ViewSink& v : views) {
      if (v.sink.Counts(m.partition, m.offset)) ++v.sink.cursor.counts.consumed;
    }
    if (lake_sink.Counts(m.partition, m.offset)) ++lake_sink.cursor.counts.consumed;
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
    // flush, or from a partition seen for the first time).
    const std::int64_t wm = Watermark(ps);
    const bool late = ts < wm || (m.offset >= ps.replay_until && ts < applied_before);
    if (late) {
      ++status.counts.late;
      for (ViewSink& v : views) {
        if (v.sink.Counts(m.partition, m.offset)) ++v.sink.cursor.counts.late;
      }
      if (lake_sink.Counts(m.partition, m.offset)) {
        ++lake_sink.cursor.counts.late;
        const size_t ncols = waiting_rows.num_columns();
        reader.AppendParsed(segment_late);
        segment_late.column(ncols).AppendInt64(m.partition);
        segment_late.column(ncols + 1).AppendInt64(m.offset);
      }
      return;
    }
    waiting.push_back({ts, m.partition, m.offset, ps.newest, waiting_rows.num_rows()});
    reader.AppendParsed(waiting_rows);
    ps.newest = ps.newest ? std::max(*ps.newest, ts) : ts;
  }

  // The events the watermarks have passed (all of them when `flush`), in (event time,
  // partition, offset) order, into `taken` and apply_rows; the others stay waiting. Buffers are
  // reused from batch to batch (a catch-up moves millions of rows through them).
  const std::vector<Waiting>& TakeApplicable(bool flush) {
    std::int64_t frontier = std::numeric_limits<std::int64_t>::max();
    if (!flush) {
      for (const auto& [p, ps] : partitions) {
        if (ps.newest) {
          frontier = std::min(frontier, Watermark(ps));
        } else if (ps.next < ps.high) {
          // Messages not read yet, none with an event time so far: they may be older than
          // anything seen elsewhere. Only a partition with nothing to read is left out.
          frontier = kNoTime;
        }
      }
    }
    taken.clear();
    size_t kept = 0;
    for (const Waiting& w : waiting) {
      if (w.ts < frontier) {
        taken.push_back(w);
      } else {
        waiting[kept++] = w;
      }
    }
    waiting.resize(kept);
    std::sort(taken.begin(), taken.end(), [](const Waiting& a, const Waiting& b) {
      return std::tie(a.ts, a.partition, a.offset) < std::tie(b.ts, b.partition, b.offset);
    });
    ClearRows(apply_rows);
    GatherRows(apply_rows, waiting_rows, taken.size(), [&](size_t i) { return taken[i].row; });
    if (!taken.empty()) {
      ClearRows(waiting_spare);
      GatherRows(waiting_spare, waiting_rows, waiting.size(),
                 [&](size_t i) { return waiting[i].row; });
      for (size_t i = 0; i < waiting.size(); ++i)
        waiting[i].row = i;
      std::swap(waiting_rows, waiting_spare);
    }
    if (flush) {
      if (!taken.empty()) applied_before = std::max(applied_before, taken.back().ts + 1);
    } else if (frontier != std::numeric_limits<std::int64_t>::max()) {
      applied_before = std::max(applied_before, frontier);
    }
    return taken;
  }

  StreamCursor CursorFor(const Sink& sink) const {
    StreamCursor c;
    c.applied_before = std::max(applied_before, sink.applied_at_start);
    c.counts = sink.cursor.counts;
    for (const auto& [p, ps] : partitions) {
      StreamPartitionCursor pc;
      pc.seen_through = ps.next;
      pc.resume = ps.next;
      pc.newest_before_resume = ps.newest;
      c.partitions[p] = pc;
    }
    for (const Waiting& w : waiting) {
      StreamPartitionCursor& pc = c.partitions[w.partition];
      if (w.offset < pc.resume) {
        pc.resume = w.offset;
        pc.newest_before_resume = w.newest_before;
      }
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
    if (take.empty() || take.front().ts >= sink.applied_at_start) return false;
    std::vector<size_t> rows;
    for (size_t i = 0; i < take.size(); ++i) {
      if (take[i].ts >= sink.applied_at_start) rows.push_back(i);
    }
    ClearRows(view_rows);
    GatherRows(view_rows, apply_rows, rows.size(), [&](size_t i) { return rows[i]; });
    return true;
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
      StateLookup lookup = [this, view_name](const std::vector<std::string>& keys) {
        return store->MultiGet(view_name, keys);
      };
      PartLookup parts = [this, view_name](const std::vector<store::PartKey>& keys) {
        return store->MultiGetParts(view_name, keys);
      };
      SLUICE_ASSIGN_OR_RETURN(
          states, UpdateEntityStates(v.plan, *events, lookup, parts, &counts, &created));
      v.meta.entities += created;
      v.sink.cursor.counts.applied += static_cast<std::int64_t>(rows.num_rows());
      const types::Column& ts = events->column(v.plan.entity_keys.size());
      for (size_t r = 0; r < ts.size(); ++r) {
        if (ts.IsValid(r))
          v.meta.newest_event_micros = std::max(v.meta.newest_event_micros, ts.GetTimestamp(r));
      }
    }
    const StreamCursor cursor = CursorFor(v.sink);
    if (states.heads.empty() && cursor == v.sink.cursor && !v.sink.changed) {
      return base::Status::Ok();
    }
    v.meta.source_version = lake_version.id;
    v.meta.materialized_at = base::FormatTime(clock->Now());
    SLUICE_RETURN_IF_ERROR(
        store->WriteState(v.spec->name, states.heads, states.parts, v.meta,
                          {{StreamCursorEntry(source->name), EncodeStreamCursor(cursor)}},
                          /*replace=*/false));
    base::KillPoint("stream.after_store_write");
    v.sink.cursor = cursor;
    v.sink.changed = false;
    *written += static_cast<std::int64_t>(states.heads.size());
    return base::Status::Ok();
  }

  void AddToSegment(const std::vector<Waiting>& take) {
    const bool subset = SelectUnseen(lake_sink, take);
    const size_t ncols = apply_rows.num_columns();
    if (subset) {
      for (size_t c = 0; c < ncols; ++c)
        segment_data.column(c).AppendColumn(view_rows.column(c));
    } else {
      for (size_t c = 0; c < ncols; ++c)
        segment_data.column(c).AppendColumn(apply_rows.column(c));
    }
    for (const Waiting& w : take) {
      if (subset && w.ts < lake_sink.applied_at_start) continue;
      segment_data.column(ncols).AppendInt64(w.partition);
      segment_data.column(ncols + 1).AppendInt64(w.offset);
      ++lake_sink.cursor.counts.applied;
    }
  }

  std::int64_t SegmentRows() const {
    return static_cast<std::int64_t>(segment_data.num_rows() + segment_late.num_rows() +
                                     segment_quarantine.num_rows());
  }

  // Writes `rows` to a Parquet file in the staging folder and stores it in the lake (zstd at
  // level 1, as the file ingest writes the lake: as cheap as snappy, smaller than level 3).
  base::Result<lake::OutputFile> StoreSegmentFile(const std::string& name, types::Batch& rows,
                                                  const std::string& function) {
    const fs::path file = staging->path() / (name + "-" + std::to_string(segments) + ".parquet");
    SLUICE_RETURN_IF_ERROR(db.Execute("COPY (SELECT * FROM " + function + "()) TO " +
                                      warehouse::QuoteLiteral(file.string()) +
                                      " (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1)"));
    std::error_code ec;
    const auto bytes = fs::file_size(file, ec);
    SLUICE_ASSIGN_OR_RETURN(std::string sha, lake->PutObject(file, /*move=*/true));
    return lake::OutputFile{name, sha, ec ? 0 : bytes, static_cast<std::int64_t>(rows.num_rows())};
  }

  // Lands the segment being built (if it holds anything or the cursor moved) as a new version
  // of the source's dataset: the previous version's files plus this segment's.
  base::Status LandSegment() {
    const StreamCursor cursor = CursorFor(lake_sink);
    if (SegmentRows() == 0 && cursor == lake_sink.cursor) return base::Status::Ok();
    lake::Manifest m = lake_version;
    m.id.clear();
    m.checksum.clear();
    m.parents = {lake_version.id};
    std::string first_sha;
    struct Part {
      const char* name;
      types::Batch* rows;
      const char* function;
    };
    for (const Part& part :
         {Part{"data", &segment_data, "stream_segment_data"},
          Part{"late", &segment_late, "stream_segment_late"},
          Part{"quarantine", &segment_quarantine, "stream_segment_quarantine"}}) {
      if (part.rows->num_rows() == 0) continue;
      SLUICE_ASSIGN_OR_RETURN(lake::OutputFile out,
                              StoreSegmentFile(part.name, *part.rows, part.function));
      if (first_sha.empty()) first_sha = out.sha256;
      m.outputs.push_back(std::move(out));
    }
    const StreamCounts& before = lake_version_counts;
    const std::int64_t quarantined =
        cursor.counts.quarantined + cursor.counts.late - before.quarantined - before.late;
    m.rows.loaded += cursor.counts.applied - before.applied;
    m.rows.quarantined += quarantined;
    m.rows.read += cursor.counts.applied - before.applied + quarantined;
    // The offsets this segment covers, partition by partition: each range starts where the
    // previous segment's ended, so the archive has no gap and no overlap. (Events of a range
    // still waiting for the watermark land with a later segment.)
    for (const auto& [p, pc] : cursor.partitions) {
      std::int64_t from = 0;
      if (auto it = lake_sink.cursor.partitions.find(p); it != lake_sink.cursor.partitions.end()) {
        from = it->second.seen_through;
      } else if (auto st = partitions.find(p); st != partitions.end()) {
        from = st->second.start;
      }
      if (pc.seen_through <= from) continue;
      m.inputs.push_back({"kafka:" + source->topic + "[" + std::to_string(p) + "]@" +
                              std::to_string(from) + ".." + std::to_string(pc.seen_through - 1),
                          first_sha, 0});
    }
    m.cursor = lake::Cursor{"kafka", EncodeStreamCursor(cursor)};
    m.created_at = base::FormatTime(clock->Now());
    base::KillPoint("stream.before_segment_publish");
    SLUICE_ASSIGN_OR_RETURN(lake::Lake::PublishResult published, lake->Publish(m));
    base::KillPoint("stream.after_segment_publish");
    lake_version = std::move(published.manifest);
    lake_sink.cursor = cursor;
    lake_version_counts = cursor.counts;
    for (types::Batch* b : {&segment_data, &segment_late, &segment_quarantine})
      *b = types::Batch(b->schema());
    segment_started = clock->Now();
    ++segments;
    ++status.segments;
    return base::Status::Ok();
  }

  StreamCounts lake_version_counts;

  // Applies what the watermarks allow (everything when `flush`), commits every view and, when
  // due (or `land`), lands the lake segment.
  base::Status Step(bool flush, bool land) {
    const auto started = clock->Now();
    const std::vector<Waiting>& take = TakeApplicable(flush);
    std::int64_t written = 0;
    const auto store_started = clock->Now();
    for (ViewSink& v : views)
      SLUICE_RETURN_IF_ERROR(ApplyToView(v, take, &written));
    const auto stored = clock->Now();
    status.store_write_seconds = std::chrono::duration<double>(stored - store_started).count();
    status.freshness_micros.clear();
    for (const Waiting& w : take)
      status.freshness_micros.push_back(stored.time_since_epoch().count() - w.ts);
    status.counts.applied += static_cast<std::int64_t>(take.size());
    AddToSegment(take);
    if (land || SegmentRows() >= options.segment_rows ||
        (SegmentRows() > 0 && clock->Now() - segment_started >= options.segment_age)) {
      SLUICE_RETURN_IF_ERROR(LandSegment());
    }
    status.buffered = static_cast<std::int64_t>(waiting.size());
    status.last_batch_seconds = std::chrono::duration<double>(clock->Now() - started).count();
    ++status.batches;
    return base::Status::Ok();
  }
};

StreamRuntime::StreamRuntime(std::unique_ptr<State> state) : s_(std::move(state)) {}
StreamRuntime::~StreamRuntime() = default;

namespace {

// Reads a sink's stored cursor into `sink`.
void StartSink(Sink& sink, std::optional<StreamCursor> cursor) {
  if (!cursor) return;
  sink.cursor = *cursor;
  sink.applied_at_start = cursor->applied_before;
  for (const auto& [p, pc] : cursor->partitions)
    sink.seen_at_start[p] = pc.seen_through;
}

}  // namespace

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
  SLUICE_RETURN_IF_ERROR(s->db.RegisterBatch("stream_segment_data", &s->segment_data));
  SLUICE_RETURN_IF_ERROR(s->db.RegisterBatch("stream_segment_late", &s->segment_late));
  SLUICE_RETURN_IF_ERROR(s->db.RegisterBatch("stream_segment_quarantine", &s->segment_quarantine));

  // The lake: the source's dataset, with an empty first version so views can name it.
  SLUICE_ASSIGN_OR_RETURN(std::optional<lake::Manifest> current, lake.Current(source.name));
  std::optional<StreamCursor> lake_cursor;
  if (current) {
    if (!current->cursor || current->cursor->column != "kafka") {
      return base::FailedPrecondition("dataset '" + source.name +
                                      "' in the lake was not written by `sluice stream` (" +
                                      "version " + current->id.substr(0, 12) +
                                      "); a kafka source's dataset is its stream "
                                      "archive");
    }
    SLUICE_ASSIGN_OR_RETURN(
        StreamCursor c, DecodeStreamCursor(current->cursor->value, "lake version " + current->id));
    lake_cursor = c;
    s->lake_version = *current;
    s->lake_version_counts = c.counts;
  } else {
    lake::Manifest m;
    m.dataset = source.name;
    m.kind = "source";
    SLUICE_ASSIGN_OR_RETURN(m.schema, source.Schema());
    m.definition_hash = "stream:" + source.topic;
    m.cursor = lake::Cursor{"kafka", EncodeStreamCursor(StreamCursor{})};
    m.created_at = base::FormatTime(clock.Now());
    SLUICE_ASSIGN_OR_RETURN(lake::Lake::PublishResult published, lake.Publish(m));
    s->lake_version = std::move(published.manifest);
  }
  StartSink(s->lake_sink, lake_cursor);
  SLUICE_ASSIGN_OR_RETURN(lake::StagingDir staging, lake::StagingDir::Create(lake.root()));
  s->staging.emplace(std::move(staging));
  s->segment_started = clock.Now();

  // The views: planned against the declared schema (the same plan as over any version of the
  // archive, whose schema it is), with the cursor stored beside their states.
  std::optional<StreamCursor> earliest = lake_cursor;
  bool fresh_sink = !lake_cursor;
  for (const config::FeatureViewSpec* spec : views) {
    ViewSink v;
    v.spec = spec;
    SLUICE_ASSIGN_OR_RETURN(v.plan, LoadPlan(project, *spec, lake, s->lake_version, s->db));
    SLUICE_ASSIGN_OR_RETURN(std::optional<store::ViewMeta> meta, store.Meta(spec->name));
    SLUICE_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                            store.ReadSide(spec->name, StreamCursorEntry(source.name)));
    std::optional<StreamCursor> cursor;
    if (meta) {
      if (!stored) {
        return base::FailedPrecondition(
            "feature view '" + spec->name + "' in " + store.Describe() +
            " holds states that `sluice stream` did not write (no stream cursor); remove them "
            "before streaming into it");
      }
      if (meta->definition_hash != v.plan.definition_hash ||
          meta->encoding_version != kStateEncoding) {
        return base::FailedPrecondition(
            "feature view '" + spec->name +
            "' changed since its online state was streamed (definition or state encoding); "
            "rebuilding it into a new generation is not implemented yet: give the changed view "
            "a new name, or remove its online state and stream again");
      }
      SLUICE_ASSIGN_OR_RETURN(
          cursor, DecodeStreamCursor(*stored, "stream cursor of view '" + spec->name + "'"));
      v.meta = *meta;
    } else {
      v.meta.definition_hash = v.plan.definition_hash;
      v.meta.encoding_version = kStateEncoding;
      v.sink.changed = true;  // written at the first step, so `get` finds the view
      fresh_sink = true;
    }
    StartSink(v.sink, cursor);
    if (cursor && (!earliest || cursor->SeenTotal() < earliest->SeenTotal())) earliest = cursor;
    s->views.push_back(std::move(v));
  }
  if (fresh_sink) earliest.reset();  // a sink with no cursor starts from the beginning

  // Partitions and where to start each.
  SLUICE_ASSIGN_OR_RETURN(int partition_count, s->consumer->PartitionCount(kMetadataTimeout));
  std::vector<std::pair<std::int32_t, std::optional<std::int64_t>>> assignment;
  for (std::int32_t p = 0; p < partition_count; ++p) {
    SLUICE_ASSIGN_OR_RETURN(auto marks, s->consumer->QueryWatermarks(p, kMetadataTimeout));
    PartitionState ps;
    ps.end = marks.second;
    ps.high = marks.second;
    ps.next = source.start == config::KafkaStart::kLatest && !earliest ? marks.second : marks.first;
    if (earliest) {
      if (auto it = earliest->partitions.find(p); it != earliest->partitions.end()) {
        ps.next = it->second.resume;
        ps.newest = it->second.newest_before_resume;
        ps.replay_until = it->second.seen_through;
      }
      s->applied_before = earliest->applied_before;
    }
    if (ps.next < marks.first) {
      return base::FailedPrecondition(
          "partition " + std::to_string(p) + " of topic '" + source.topic + "' starts at offset " +
          std::to_string(marks.first) + " but the stream must resume at " +
          std::to_string(ps.next) + ": the messages in between were deleted by retention");
    }
    ps.start = ps.next;
    assignment.emplace_back(p, ps.next);
    s->partitions[p] = ps;
  }
  SLUICE_RETURN_IF_ERROR(s->consumer->Assign(assignment));
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
  // Views written for the first time at once, so `get` finds them even before any event.
  SLUICE_RETURN_IF_ERROR(s.Step(/*flush=*/false, /*land=*/false));
  size_t gathered = 0;  // messages of the micro-batch being gathered
  base::ProcessingTime gathering_since{};
  while (true) {
    if (s.options.stop_at_end && at_end()) {
      SLUICE_RETURN_IF_ERROR(s.Step(/*flush=*/true, /*land=*/true));
      break;
    }
    if (stop.load()) {
      SLUICE_RETURN_IF_ERROR(s.Step(/*flush=*/false, /*land=*/true));
      break;
    }
    // While a micro-batch gathers, a poll waits only for what is left of its linger.
    auto wait = s.options.poll_timeout;
    if (gathered > 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          gathering_since + s.options.batch_linger - s.clock->Now());
      wait = std::clamp(left, std::chrono::milliseconds(0), wait);
    }
    SLUICE_RETURN_IF_ERROR(s.consumer->Poll(
        std::max<size_t>(
            1, s.options.max_poll_messages - std::min(gathered, s.options.max_poll_messages)),
        wait, &poll));
    for (const connectors::KafkaMessage& m : poll.messages)
      s.Consume(m);
    if (gathered == 0 && !poll.messages.empty()) gathering_since = s.clock->Now();
    gathered += poll.messages.size();
    // Applied when full, when its linger is over, or when the topic went quiet (nothing more
    // came within the wait: no reason to hold what arrived).
    if (gathered > 0 && (gathered >= s.options.max_poll_messages || poll.messages.empty() ||
                         s.clock->Now() - gathering_since >= s.options.batch_linger)) {
      gathered = 0;
      SLUICE_RETURN_IF_ERROR(s.Step(/*flush=*/false, /*land=*/false));
      std::vector<std::pair<std::int32_t, std::int64_t>> offsets;
      for (const auto& [p, ps] : s.partitions)
        offsets.emplace_back(p, ps.next);
      s.consumer->CommitInformational(offsets);
    } else if (gathered == 0 && s.SegmentRows() > 0 &&
               s.clock->Now() - s.segment_started >= s.options.segment_age) {
      SLUICE_RETURN_IF_ERROR(s.LandSegment());
    }
    for (auto& [p, ps] : s.partitions) {
      if (auto high = s.consumer->CachedHighWatermark(p)) {
        ps.high = std::max(ps.high, *high);
        ps.end = s.options.stop_at_end ? ps.end : std::max(ps.end, *high);
        s.status.lag[p] = std::max<std::int64_t>(0, std::max(ps.end, *high) - ps.next);
      } else {
        s.status.lag[p] = std::max<std::int64_t>(0, ps.end - ps.next);
      }
    }
    if (report) report(s.status);
    s.status.freshness_micros.clear();  // reported once
  }
  for (auto& [p, ps] : s.partitions)
    s.status.lag[p] = std::max<std::int64_t>(0, ps.end - ps.next);
  if (report) report(s.status);
  return base::Status::Ok();
}

}  // namespace sluice::engine
