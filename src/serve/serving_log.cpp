#include "serve/serving_log.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "base/time.h"
#include "lake/parquet_file.h"
#include "lake/staging_dir.h"
#include "serve/json_writer.h"

namespace sluice::serve {

namespace fs = std::filesystem;

namespace {

constexpr const char* kKind = "serving_log";
// How a part is written (bench/serve/README.md, serving_log_bench): by the lake's own Parquet
// writer straight from the request threads' buffers (DuckDB's COPY, which wrote the parts before,
// copied every value into its vectors first and cost the writer about 40% more per row),
// LZ4-compressed (cheaper for the writer than zstd at level 1, parts about half again larger),
// view, source_version and definition dictionary-encoded (a dictionary of the part's few keys
// and runs of indices: no per-row bytes), entity and features PLAIN. Pages of 256 KiB (about 750
// rows) compress better than 64 KiB ones and cost less per row, and stay short enough that the
// writer, yielding after each, holds the core for well under a millisecond at a time.
constexpr std::size_t kPageBytes = std::size_t{256} << 10;
constexpr std::size_t kRowGroupRows = 122880;
// How often the writer looks at the clock when nothing wakes it: the interval is measured on
// the injected clock, the poll only bounds how late a due flush is noticed.
constexpr auto kPoll = std::chrono::milliseconds(50);
// Request threads write rows into one of this many buffers (by thread), so they never wait for
// each other, only, briefly, for the writer taking a buffer.
constexpr std::size_t kShards = 16;
// The writer thread's nice value (request threads keep the process's).
constexpr int kWriterNice = 10;
// The writer moves the rows out of the request threads' buffers when it looks (kPoll) and at
// least every this many rows (about 800 KB of the bench's rows, 50 ms at 40,000 rows/s): their
// buffers stay small enough to be in cache when they are written again.
constexpr std::uint64_t kCollectRows = 2048;
// Emptied row buffers the writer keeps for the next swaps (the rest are freed): enough for a
// swap of every shard.
constexpr std::size_t kSpareBuffers = 2 * kShards;

// The serving log's column positions: MakeSchema lays them out and ServingLogBatch writes
// them by these numbers; view, source_version and definition are its dictionary columns.
enum LogColumn : std::size_t {
  kServedAt,
  kAsOf,
  kRequest,
  kView,
  kSourceVersion,
  kDefinition,
  kEntity,
  kFeatures,
};
constexpr std::size_t kFirstDictionaryColumn = kView;
constexpr bool IsDictionaryColumn(std::size_t column) {
  return column >= kView && column <= kDefinition;
}

types::Schema MakeSchema() {
  using types::LogicalType;
  // In LogColumn's order.
  auto schema = types::Schema::Make({
      {"served_at", LogicalType::kTimestamp, false},
      {"as_of", LogicalType::kTimestamp, false},
      {"request", LogicalType::kInt64, false},
      {"view", LogicalType::kString, false},
      {"source_version", LogicalType::kString, false},
      {"definition", LogicalType::kString, false},
      {"entity", LogicalType::kString, false},
      {"features", LogicalType::kString, false},
  });
  return *schema;  // fixed, valid names
}

// A per-thread xorshift64* stream: sampling must not touch shared state on the request path.
std::uint64_t NextRandom() {
  thread_local std::uint64_t state = [] {
    std::uint64_t seed =
        std::hash<std::thread::id>{}(std::this_thread::get_id()) ^
        static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    // splitmix64, so close seeds give unrelated streams (and never 0).
    seed += 0x9e3779b97f4a7c15ULL;
    seed = (seed ^ (seed >> 30)) * 0xbf58476d1ce4e5b9ULL;
    seed = (seed ^ (seed >> 27)) * 0x94d049bb133111ebULL;
    seed ^= seed >> 31;
    return seed == 0 ? 1 : seed;
  }();
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return state * 0x2545F4914F6CDD1DULL;
}

// sched_setattr's argument (linux/sched/types.h; glibc has no wrapper).
struct SchedAttr {
  std::uint32_t size;
  std::uint32_t sched_policy;
  std::uint64_t sched_flags;
  std::int32_t sched_nice;
  std::uint32_t sched_priority;
  std::uint64_t sched_runtime;
  std::uint64_t sched_deadline;
  std::uint64_t sched_period;
};

// The writer thread at kWriterNice with the shortest time slice Linux's EEVDF scheduler allows
// (since 6.12 a fair task's sched_runtime sets its slice, at least 100 us): a request thread
// that wakes while the writer runs gets the core after at most that, instead of the default
// slice (a few ms on one core, the p99 of a pinned server with the log on). False where the
// kernel does not take it.
bool SetShortSlice(pid_t tid) {
  SchedAttr attr{};
  attr.size = sizeof(attr);
  attr.sched_policy = SCHED_OTHER;
  attr.sched_nice = kWriterNice;
  attr.sched_runtime = 100'000;  // ns
  return ::syscall(SYS_sched_setattr, tid, &attr, 0u) == 0;
}

}  // namespace

const types::Schema& ServingLogSchema() {
  static const types::Schema schema = MakeSchema();
  return schema;
}

struct ServingLogWriterState {
  lake::StagingDir staging;
};

// A byte range in ServingLogRows::bytes.
struct RowPiece {
  std::size_t offset = 0;
  std::size_t length = 0;
};

// What a lookup was served from: the same for every row of a view until a reload, so a buffer
// holds each once and its rows refer to it by index.
struct ServedKey {
  std::string view, source_version, definition;
};

struct ServingLogRow {
  std::int64_t served_at = 0;
  std::int64_t at = 0;
  std::int64_t request = 0;       // numbered by the writer
  std::uint32_t key = 0;          // index into ServingLogRows::keys
  bool first_of_request = false;  // the writer numbers requests by these
  RowPiece entity, features;
};

struct ServingLogRows {
  std::string bytes;  // every piece of every row, appended
  std::vector<ServingLogRow> rows;
  std::vector<ServedKey> keys;
  base::ProcessingTime oldest;  // when the first row came
  // Writer only: each key's index in the batch's view, source_version and definition dictionaries.
  std::vector<std::array<std::uint32_t, 3>> key_index;

  RowPiece Append(std::string_view text) {
    RowPiece p{bytes.size(), text.size()};
    bytes.append(text);
    return p;
  }
  std::string_view Text(const RowPiece& p) const {
    return std::string_view(bytes).substr(p.offset, p.length);
  }
  // The index of the lookup's key, added on its first row: a few keys, compared, not hashed.
  // Requests name their views in the same order, so the `hint`-th key (the lookup's position in
  // its request) is tried first.
  std::uint32_t Key(const ServedLookup& l, std::size_t hint) {
    auto same = [&l](const ServedKey& k) {
      return k.view == l.view && k.source_version == l.source_version &&
             k.definition == l.definition_hash;
    };
    if (hint < keys.size() && same(keys[hint])) return static_cast<std::uint32_t>(hint);
    for (std::size_t i = keys.size(); i-- > 0;) {
      if (same(keys[i])) return static_cast<std::uint32_t>(i);
    }
    keys.push_back(ServedKey{std::string(l.view), std::string(l.source_version),
                             std::string(l.definition_hash)});
    return static_cast<std::uint32_t>(keys.size() - 1);
  }
  void Clear() {
    bytes.clear();
    rows.clear();
    keys.clear();
    key_index.clear();
  }
};

// The rows collected and not yet published, moved out of the request threads' buffers each time
// the writer looks (kPoll) into one buffer of its own, and written by lake::WriteParquet as the
// serving log's columns: view, source_version and definition (LogColumn's dictionary columns)
// from dictionaries built per key, not per row.
class ServingLogBatch final : public lake::ParquetRows {
 public:
  const types::Schema& schema() const override { return ServingLogSchema(); }
  size_t num_rows() const override { return rows_.rows.size(); }
  std::span<const std::string_view> Dictionary(size_t column) const override {
    if (!IsDictionaryColumn(column)) return {};
    return dicts_[column - kFirstDictionaryColumn].views;
  }

  size_t AppendPlain(size_t column, size_t begin, size_t end, size_t max_bytes,
                     std::string& out) const override {
    const std::size_t start = out.size();
    if (column == kServedAt || column == kAsOf || column == kRequest) {
      // Fixed width: the rows up to max_bytes, in one resize.
      const std::size_t n = std::min(end - begin, std::max<std::size_t>(1, (max_bytes + 7) / 8));
      out.resize(start + n * 8);
      char* p = out.data() + start;
      for (std::size_t r = begin; r < begin + n; ++r, p += 8) {
        const ServingLogRow& x = rows_.rows[r];
        const std::int64_t v = column == kServedAt ? x.served_at
                               : column == kAsOf   ? x.at
                                                   : x.request;
        std::memcpy(p, &v, 8);
      }
      return begin + n;
    }
    const bool entity = column == kEntity;
    // The rows up to max_bytes, sized first and written in one resize.
    std::size_t bytes = 0, last = begin;
    while (last < end && (last == begin || bytes < max_bytes)) {
      bytes += 4 + (entity ? rows_.rows[last].entity : rows_.rows[last].features).length;
      ++last;
    }
    out.resize(start + bytes);
    char* p = out.data() + start;
    for (std::size_t r = begin; r < last; ++r) {
      const RowPiece& piece = entity ? rows_.rows[r].entity : rows_.rows[r].features;
      const auto len = static_cast<std::uint32_t>(piece.length);
      for (int i = 0; i < 4; ++i)
        *p++ = static_cast<char>((len >> (8 * i)) & 0xFF);
      std::memcpy(p, rows_.bytes.data() + piece.offset, piece.length);
      p += piece.length;
    }
    return last;
  }

  void Indices(size_t column, size_t begin, size_t end, std::uint32_t* out) const override {
    const std::size_t d = column - kFirstDictionaryColumn;
    for (std::size_t r = begin; r < end; ++r)
      out[r - begin] = rows_.key_index[rows_.rows[r].key][d];
  }

  // Moves a request thread's buffer's rows (it must hold some) to the end of the batch, numbering
  // their requests from `next_request`, and empties it. The bytes are copied in one go: the
  // request threads' buffers stay small and go round while still in cache, instead of every
  // logged row being written to memory no cache holds (a part's worth of rows, MBs), which cost
  // a request thread more than the rest of logging it (serving_log_bench: Submit 0.45 us per
  // request with buffers of 100,000 rows, 0.14-0.19 us with 2,000). This buffer keeps its memory
  // from part to part.
  void Absorb(ServingLogRows& from, std::uint64_t& next_request) {
    const std::size_t base = rows_.bytes.size();
    rows_.bytes.append(from.bytes);
    key_map_.resize(from.keys.size());
    for (std::size_t k = 0; k < from.keys.size(); ++k) {
      const ServedKey& key = from.keys[k];
      key_map_[k] = rows_.Key(ServedLookup{key.view, key.source_version, key.definition}, k);
      if (key_map_[k] == rows_.key_index.size()) {
        const ServedKey& kept = rows_.keys[key_map_[k]];
        rows_.key_index.push_back(
            {dicts_[kView - kFirstDictionaryColumn].Index(kept.view),
             dicts_[kSourceVersion - kFirstDictionaryColumn].Index(kept.source_version),
             dicts_[kDefinition - kFirstDictionaryColumn].Index(kept.definition)});
      }
    }
    for (ServingLogRow row : from.rows) {
      if (row.first_of_request) ++next_request;
      row.request = static_cast<std::int64_t>(next_request - 1);
      row.key = key_map_[row.key];
      row.entity.offset += base;
      row.features.offset += base;
      rows_.rows.push_back(row);
    }
    from.Clear();
  }

  // Empties the batch, keeping its memory.
  void Clear() {
    rows_.Clear();
    for (Dict& d : dicts_)
      d.Clear();
  }

 private:
  // The distinct values of a dictionary column, in order of first use.
  struct Dict {
    std::deque<std::string> values;  // never moved once added: `views` and `index` point into them
    std::vector<std::string_view> views;
    std::unordered_map<std::string_view, std::uint32_t> index;
    std::uint32_t Index(std::string_view v) {
      if (auto it = index.find(v); it != index.end()) return it->second;
      const auto i = static_cast<std::uint32_t>(views.size());
      views.push_back(values.emplace_back(v));
      index.emplace(views.back(), i);
      return i;
    }
    void Clear() {
      values.clear();
      views.clear();
      index.clear();
    }
  };

  ServingLogRows rows_;                 // key_index: each of its keys' index in the dictionaries
  std::vector<std::uint32_t> key_map_;  // Absorb's: from's key -> rows_'s
  Dict dicts_[kDefinition - kFirstDictionaryColumn + 1];
};

namespace {

constexpr std::string_view kValueOpen = "\":{\"value\":";
constexpr std::string_view kStatusOpen = ",\"status\":\"";
constexpr std::string_view kStatusClose = "\"}";

// Copies n bytes, W <= n <= 2W, as two possibly overlapping moves of W bytes (the head and the
// tail of the piece), each read before either is written.
template <std::size_t W>
void CopyHeadAndTail(char* dst, const char* src, std::size_t n) {
  char head[W], tail[W];
  std::memcpy(head, src, W);
  std::memcpy(tail, src + n - W, W);
  std::memcpy(dst, head, W);
  std::memcpy(dst + n - W, tail, W);
}

// Copies n bytes, n small (a feature's name or value) as a few fixed-size moves the compiler
// inlines, reading and writing only [src, src + n): a call into the library's memcpy per piece
// (about twenty per row) cost about a tenth of Submit (serving_log_bench: 0.19 -> 0.17 us).
void CopyPiece(char* dst, const char* src, std::size_t n) {
  if (n >= 16 && n <= 32) {
    CopyHeadAndTail<16>(dst, src, n);
  } else if (n >= 8 && n < 16) {
    CopyHeadAndTail<8>(dst, src, n);
  } else if (n >= 4 && n < 8) {
    CopyHeadAndTail<4>(dst, src, n);
  } else if (n < 4) {
    for (std::size_t i = 0; i < n; ++i)
      dst[i] = src[i];
  } else {
    std::memcpy(dst, src, n);
  }
}

// Appends an entity's features as the log's JSON object, each name and value copied from the
// response the request thread rendered (`spans`: one per feature). A feature's status is written
// unless it is "present", the usual one: that was a third of a row's bytes, which the request
// thread copies and the writer copies, encodes and compresses. The size is computed first
// and the bytes written in one go: appending piece by piece (about 70 appends, each checking the
// capacity) was most of Submit. False, and nothing appended, when a span lies outside `text`.
bool AppendCopiedFeatures(std::string& out, std::string_view text, const FeatureSpans* spans,
                          const std::vector<engine::OnlineFeature>& features) {
  const std::size_t n = features.size();
  std::size_t size = n == 0 ? 2 : n + 1;  // braces and commas
  for (std::size_t f = 0; f < n; ++f) {
    const FeatureSpans& s = spans[f];
    if (s.name.offset > text.size() || s.name.length > text.size() - s.name.offset ||
        s.value.offset > text.size() || s.value.length > text.size() - s.value.offset) {
      return false;
    }
    size += 1 + s.name.length + kValueOpen.size() + s.value.length;
    size += features[f].status == engine::FeatureStatus::kPresent
                ? 1
                : kStatusOpen.size() + engine::StatusName(features[f].status).size() +
                      kStatusClose.size();
  }
  const std::size_t begin = out.size();
  out.resize(begin + size);
  char* p = out.data() + begin;
  auto put = [&p](std::string_view piece) {
    CopyPiece(p, piece.data(), piece.size());
    p += piece.size();
  };
  *p++ = '{';
  for (std::size_t f = 0; f < n; ++f) {
    if (f) *p++ = ',';
    *p++ = '"';
    put(text.substr(spans[f].name.offset, spans[f].name.length));
    put(kValueOpen);
    put(text.substr(spans[f].value.offset, spans[f].value.length));
    if (features[f].status == engine::FeatureStatus::kPresent) {
      *p++ = '}';
    } else {
      put(kStatusOpen);
      put(engine::StatusName(features[f].status));
      put(kStatusClose);
    }
  }
  *p++ = '}';
  return true;
}

// The same object rendered from the values (no response to copy from).
void AppendRenderedFeatures(std::string& out, const std::vector<engine::OnlineFeature>& features) {
  out += '{';
  for (std::size_t f = 0; f < features.size(); ++f) {
    if (f) out += ',';
    AppendJsonString(out, features[f].name);
    out += ":{\"value\":";
    AppendJsonValue(out, features[f].value);
    if (features[f].status == engine::FeatureStatus::kPresent) {
      out += '}';
    } else {
      out += kStatusOpen;
      out += engine::StatusName(features[f].status);
      out += kStatusClose;
    }
  }
  out += '}';
}

}  // namespace

// Aligned to cache lines, so threads writing different shards share none.
struct alignas(64) ServingLogShard {
  std::mutex mu;
  ServingLogRows rows;
  // Requests its threads sampled: a counter per shard, so sampling touches no line another
  // request thread writes.
  std::atomic<std::uint64_t> sampled{0};
};

namespace {

// The calling thread's shard index: threads are numbered as they first log, so up to kShards
// threads never share a shard.
unsigned ThreadShard() {
  static std::atomic<unsigned> next_thread{0};
  thread_local const unsigned index = next_thread.fetch_add(1, std::memory_order_relaxed);
  return index % kShards;
}

}  // namespace

ServingLog::ServingLog(const fs::path& lake_root, config::ServingLogSpec spec, base::Clock& clock)
    : lake_(lake_root),
      spec_(std::move(spec)),
      clock_(clock),
      shards_(std::make_unique<ServingLogShard[]>(kShards)),
      batch_(std::make_unique<ServingLogBatch>()),
      shard_sizes_(kShards) {}

base::Result<std::unique_ptr<ServingLog>> ServingLog::Open(const fs::path& lake_root,
                                                           const config::ServingLogSpec& spec,
                                                           base::Clock& clock) {
  std::unique_ptr<ServingLog> log(new ServingLog(lake_root, spec, clock));
  SLUICE_ASSIGN_OR_RETURN(std::optional<lake::Manifest> current, log->lake_.Current(spec.dataset));
  if (current) {
    if (current->kind != kKind || current->schema != ServingLogSchema()) {
      return base::FailedPrecondition("monitoring.serving_log.dataset: dataset '" + spec.dataset +
                                      "' in the lake is a " + current->kind +
                                      ", not a serving log of this format; name another dataset");
    }
    log->last_version_ = std::move(current);
  }
  SLUICE_ASSIGN_OR_RETURN(lake::StagingDir staging, lake::StagingDir::Create(lake_root));
  auto writer = std::make_shared<ServingLogWriterState>(ServingLogWriterState{std::move(staging)});
  log->writer_state_ = std::move(writer);
  log->writer_ = std::thread([raw = log.get()] { raw->WriterLoop(); });
  return log;
}

ServingLog::~ServingLog() {
  (void)Close();
}

bool ServingLog::Sample() {
  if (spec_.sample_rate <= 0) return false;
  if (spec_.sample_rate < 1) {
    const double u = static_cast<double>(NextRandom() >> 11) * 0x1.0p-53;
    if (u >= spec_.sample_rate) return false;
  }
  shards_[ThreadShard()].sampled.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void ServingLog::Submit(const LoggedRequest& request) {
  std::vector<ServedLookup> lookups;
  lookups.reserve(request.lookups.size());
  for (const LoggedLookup& l : request.lookups) {
    lookups.push_back(ServedLookup{l.view, l.source_version, l.definition_hash, &l.entities});
  }
  Submit(request.served_at, request.at, request.entity_json, lookups, nullptr);
}

void ServingLog::Submit(std::int64_t served_at, std::int64_t at,
                        const std::vector<std::string>& entity_json,
                        const std::vector<ServedLookup>& lookups, const RenderedValues* values) {
  const std::size_t entities = entity_json.size();
  std::uint64_t rows = 0;
  for (const ServedLookup& l : lookups)
    rows += std::min(l.entities->size(), entities);
  if (rows == 0) return;
  // Reserve the rows against the bound first: a full queue costs a failed exchange, no lock.
  const auto limit = static_cast<std::uint64_t>(std::max<std::int64_t>(spec_.queue, 0));
  std::uint64_t pending = pending_rows_.load(std::memory_order_relaxed);
  do {
    if (pending + rows > limit || !accepting_.load(std::memory_order_relaxed)) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
  } while (
      !pending_rows_.compare_exchange_weak(pending, pending + rows, std::memory_order_relaxed));

  // Where each (entity, view)'s values start in the rendered spans (rendering order: entity,
  // then view, then feature). Spans that do not add up fall back to rendering the values.
  thread_local std::vector<std::size_t> starts;
  const std::vector<FeatureSpans>* spans = values != nullptr ? values->spans : nullptr;
  if (spans != nullptr) {
    starts.assign(entities * lookups.size(), 0);
    std::size_t next = 0;
    for (std::size_t e = 0; e < entities; ++e) {
      for (std::size_t l = 0; l < lookups.size(); ++l) {
        starts[e * lookups.size() + l] = next;
        if (e < lookups[l].entities->size()) next += (*lookups[l].entities)[e].size();
      }
    }
    if (next != spans->size()) spans = nullptr;
  }

  ServingLogShard& shard = shards_[ThreadShard()];
  {
    std::lock_guard lock(shard.mu);
    if (!accepting_.load(std::memory_order_relaxed)) {
      // Close() began after the reservation: the final flush may already have taken this shard.
      pending_rows_.fetch_sub(rows, std::memory_order_relaxed);
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    ServingLogRows& out = shard.rows;
    if (out.rows.empty()) out.oldest = clock_.Now();
    bool first = true;
    for (std::size_t l = 0; l < lookups.size(); ++l) {
      const ServedLookup& lookup = lookups[l];
      const std::uint32_t key = out.Key(lookup, l);
      for (std::size_t e = 0; e < entities && e < lookup.entities->size(); ++e) {
        ServingLogRow row;
        row.served_at = served_at;
        row.at = at;
        row.first_of_request = first;
        first = false;
        row.key = key;
        row.entity = out.Append(entity_json[e]);
        const std::size_t begin = out.bytes.size();
        const auto& features = (*lookup.entities)[e];
        if (spans == nullptr ||
            !AppendCopiedFeatures(out.bytes, values->text,
                                  spans->data() + starts[e * lookups.size() + l], features)) {
          AppendRenderedFeatures(out.bytes, features);
        }
        row.features = RowPiece{begin, out.bytes.size() - begin};
        out.rows.push_back(row);
      }
    }
  }
  const auto flush_rows = static_cast<std::uint64_t>(std::max<std::int64_t>(spec_.flush_rows, 1));
  // The writer is woken at flush_rows, and every kCollectRows rows to move them out of the
  // request threads' buffers (ServingLogBatch::Absorb) before they outgrow the cache.
  if ((pending < flush_rows && pending + rows >= flush_rows) ||
      pending / kCollectRows != (pending + rows) / kCollectRows) {
    {
      std::lock_guard lock(mu_);
      woken_ = true;
    }
    wake_.notify_one();
  }
}

base::Status ServingLog::Flush() {
  std::unique_lock lock(mu_);
  if (closed_) return last_error_;
  const std::uint64_t id = ++flush_asked_;
  wake_.notify_one();
  done_.wait(lock, [&] { return flush_done_ >= id || closed_; });
  return last_error_;
}

base::Status ServingLog::Close() {
  {
    std::lock_guard lock(mu_);
    if (closed_) return last_error_;
  }
  accepting_.store(false);
  // A Submit that reserved its rows before this either finished writing its shard or will see
  // accepting_ false under the shard's lock: after this pass, the writer's last Collect sees
  // every row that will ever be written.
  for (std::size_t i = 0; i < kShards; ++i) {
    std::lock_guard shard_lock(shards_[i].mu);
  }
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_one();
  if (writer_.joinable()) writer_.join();
  std::lock_guard lock(mu_);
  closed_ = true;
  done_.notify_all();
  return last_error_;
}

void ServingLog::WriterLoop() {
  // Behind the request threads: logging must not take their CPU when the machine is busy.
  // Linux applies a thread's nice value to that thread alone (setpriority on its id).
  const auto tid = static_cast<pid_t>(::syscall(SYS_gettid));
  if (!SetShortSlice(tid)) (void)setpriority(PRIO_PROCESS, static_cast<id_t>(tid), kWriterNice);
  // Named, so its CPU can be told apart from the request threads' (top -H, bench/serve/log.sh).
  (void)pthread_setname_np(pthread_self(), "serving-log");
  const auto flush_rows = static_cast<std::uint64_t>(std::max<std::int64_t>(spec_.flush_rows, 1));
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait_for(lock, kPoll, [&] { return stop_ || flush_asked_ > flush_done_ || woken_; });
    woken_ = false;
    const bool stopping = stop_;
    const std::uint64_t asked = flush_asked_;
    const bool forced = stopping || asked > flush_done_;
    lock.unlock();

    // Due at flush_rows pending rows, or when the oldest is flush_interval old on the injected
    // clock (after a failed attempt: an interval after it). The shards' rows are moved into the
    // batch every time the writer looks, due or not (ServingLogBatch::Absorb: the request
    // threads' buffers then stay small enough to stay in cache).
    const std::uint64_t pending = pending_rows_.load(std::memory_order_relaxed);
    bool due = false;
    if (pending > 0 && !forced) {
      due = !retry_wait_ && pending >= flush_rows;
      if (!due) {
        const std::optional<base::ProcessingTime> oldest = OldestPending();
        due = oldest && clock_.Now() - *oldest >= spec_.flush_interval;
      }
    }
    if (forced || pending > batch_->num_rows()) Collect();
    const std::uint64_t rows = batch_->num_rows();
    base::Status status = base::Status::Ok();
    const bool publish = rows > 0 && (due || forced);
    if (publish) status = Publish();
    if (publish) {
      if (status.ok()) {
        retry_wait_ = false;
        pending_rows_.fetch_sub(rows, std::memory_order_relaxed);
      } else {
        failed_flushes_.fetch_add(1, std::memory_order_relaxed);
        if (stopping) {
          lost_rows_.fetch_add(rows, std::memory_order_relaxed);
          pending_rows_.fetch_sub(rows, std::memory_order_relaxed);
          batch_->Clear();
        } else {
          retry_wait_ = true;
          batch_oldest_ = clock_.Now();  // the next attempt one interval later
        }
      }
    }

    lock.lock();
    if (publish) last_error_ = status;
    flush_done_ = asked;
    done_.notify_all();
    if (stopping) return;
  }
}

std::optional<base::ProcessingTime> ServingLog::OldestPending() {
  std::optional<base::ProcessingTime> oldest;
  if (batch_->num_rows() > 0) oldest = batch_oldest_;
  for (std::size_t i = 0; i < kShards; ++i) {
    std::lock_guard lock(shards_[i].mu);
    const ServingLogRows& rows = shards_[i].rows;
    if (!rows.rows.empty() && (!oldest || rows.oldest < *oldest)) oldest = rows.oldest;
  }
  return oldest;
}

void ServingLog::Collect() {
  for (std::size_t i = 0; i < kShards; ++i) {
    ServingLogShard& shard = shards_[i];
    std::unique_ptr<ServingLogRows> taken;
    if (spare_.empty()) {
      taken = std::make_unique<ServingLogRows>();
    } else {
      taken = std::move(spare_.back());
      spare_.pop_back();
    }
    // The buffer the shard gets is grown here, on the writer, to half again what the shard held
    // last time: its request threads then rarely grow it, which copies the whole buffer under the
    // shard's lock while a request waits; a shard's rows per look vary with the load, so exactly
    // last time's size would be outgrown about every other time.
    taken->bytes.reserve(shard_sizes_[i].first + shard_sizes_[i].first / 2);
    taken->rows.reserve(shard_sizes_[i].second + shard_sizes_[i].second / 2);
    {
      std::lock_guard lock(shard.mu);
      if (shard.rows.rows.empty()) {
        spare_.push_back(std::move(taken));
        continue;
      }
      std::swap(shard.rows, *taken);
    }
    if (batch_->num_rows() == 0 || taken->oldest < batch_oldest_) batch_oldest_ = taken->oldest;
    shard_sizes_[i] = {taken->bytes.size(), taken->rows.size()};
    batch_->Absorb(*taken, next_request_);
    if (spare_.size() < kSpareBuffers) spare_.push_back(std::move(taken));
  }
}

base::Status ServingLog::Publish() {
  ServingLogWriterState& w = *writer_state_;
  const auto rows = static_cast<std::int64_t>(batch_->num_rows());
  const fs::path file = w.staging.path() / ("part-" + std::to_string(parts_++) + ".parquet");
  lake::ParquetWriteOptions options;
  options.row_group_rows = kRowGroupRows;
  options.page_bytes = kPageBytes;
  options.codec = lake::ParquetCodec::kLz4Raw;
  // Between pages the writer lets a request thread that is waiting for the core have it.
  options.after_page = [] { sched_yield(); };
  SLUICE_ASSIGN_OR_RETURN(const std::int64_t bytes, lake::WriteParquet(*batch_, file, options));
  SLUICE_ASSIGN_OR_RETURN(std::string sha, lake_.PutObject(file, /*move=*/true));

  lake::Manifest m;
  if (last_version_) {
    m = *last_version_;
    m.parents = {last_version_->id};
  } else {
    m.dataset = spec_.dataset;
    m.kind = kKind;
    m.schema = ServingLogSchema();
    m.definition_hash = "serving_log:1";
  }
  m.id.clear();
  m.checksum.clear();
  m.outputs.push_back(lake::OutputFile{"data", sha, static_cast<std::uint64_t>(bytes), rows});
  m.rows.read += rows;
  m.rows.loaded += rows;
  m.created_at = base::FormatTime(clock_.Now());
  SLUICE_ASSIGN_OR_RETURN(lake::Lake::PublishResult published, lake_.Publish(std::move(m)));
  last_version_ = std::move(published.manifest);
  rows_.fetch_add(static_cast<std::uint64_t>(rows), std::memory_order_relaxed);
  versions_.fetch_add(1, std::memory_order_relaxed);
  batch_->Clear();
  return base::Status::Ok();
}

ServingLogCounts ServingLog::Counts() const {
  ServingLogCounts c;
  for (std::size_t i = 0; i < kShards; ++i)
    c.sampled += shards_[i].sampled.load(std::memory_order_relaxed);
  c.dropped = dropped_.load(std::memory_order_relaxed);
  c.rows = rows_.load(std::memory_order_relaxed);
  c.versions = versions_.load(std::memory_order_relaxed);
  c.failed_flushes = failed_flushes_.load(std::memory_order_relaxed);
  c.lost_rows = lost_rows_.load(std::memory_order_relaxed);
  c.pending_rows = pending_rows_.load(std::memory_order_relaxed);
  return c;
}

std::string ServingLog::MetricsText() const {
  const ServingLogCounts c = Counts();
  std::string out;
  auto series = [&](const char* name, const char* type, const char* help, std::uint64_t v) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
           name + " " + std::to_string(v) + "\n";
  };
  series("sluice_serve_log_sampled_total", "counter",
         "Requests chosen by the serving log's sample.", c.sampled);
  series("sluice_serve_log_dropped_total", "counter",
         "Sampled requests dropped because the serving log's queue was full.", c.dropped);
  series("sluice_serve_log_rows_total", "counter",
         "Serving log rows (request, view, entity) published to the lake.", c.rows);
  series("sluice_serve_log_versions_total", "counter",
         "Serving log versions published to the lake.", c.versions);
  series("sluice_serve_log_failed_flushes_total", "counter",
         "Serving log flushes that failed (rows kept for the next attempt).", c.failed_flushes);
  series("sluice_serve_log_lost_rows_total", "counter",
         "Serving log rows given up: the last flush at shutdown failed.", c.lost_rows);
  series("sluice_serve_log_pending_rows", "gauge",
         "Serving log rows sampled and not yet published (bounded by the queue setting).",
         c.pending_rows);
  return out;
}

}  // namespace sluice::serve
