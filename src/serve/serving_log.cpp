#include "serve/serving_log.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <system_error>
#include <utility>

#include "base/time.h"
#include "lake/staging_dir.h"
#include "serve/json_writer.h"
#include "warehouse/duckdb_database.h"

namespace sluice::serve {

namespace fs = std::filesystem;

namespace {

constexpr const char* kKind = "serving_log";
constexpr const char* kRowsFunction = "serving_log_rows";
// How often the writer looks at the clock when nothing wakes it: the interval is measured on
// the injected clock, the poll only bounds how late a due flush is noticed.
constexpr auto kPoll = std::chrono::milliseconds(50);

types::Schema MakeSchema() {
  using types::LogicalType;
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

}  // namespace

const types::Schema& ServingLogSchema() {
  static const types::Schema schema = MakeSchema();
  return schema;
}

struct ServingLogWriterState {
  warehouse::DuckDb db;
  lake::StagingDir staging;
};

ServingLog::ServingLog(const fs::path& lake_root, config::ServingLogSpec spec, base::Clock& clock)
    : lake_(lake_root), spec_(std::move(spec)), clock_(clock), batch_(ServingLogSchema()) {}

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
  warehouse::DuckDb::Options options;
  options.threads = 1;
  SLUICE_ASSIGN_OR_RETURN(warehouse::DuckDb db, warehouse::DuckDb::Open(":memory:", options));
  SLUICE_ASSIGN_OR_RETURN(lake::StagingDir staging, lake::StagingDir::Create(lake_root));
  auto writer = std::make_shared<ServingLogWriterState>(
      ServingLogWriterState{std::move(db), std::move(staging)});
  SLUICE_RETURN_IF_ERROR(writer->db.RegisterBatch(kRowsFunction, &log->batch_));
  log->writer_state_ = std::move(writer);
  log->queue_.reserve(4096);
  log->spare_.reserve(4096);
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
  sampled_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void ServingLog::Submit(LoggedRequest request) {
  std::uint64_t rows = 0;
  for (const auto& l : request.lookups)
    rows += l.entities.size();
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (stop_ || pending_rows_ + rows > static_cast<std::uint64_t>(spec_.queue)) {
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (pending_rows_ == 0) oldest_pending_ = clock_.Now();
    queue_.push_back(std::move(request));
    pending_rows_ += rows;
    wake = pending_rows_ >= static_cast<std::uint64_t>(spec_.flush_rows);
  }
  if (wake) wake_.notify_one();
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
  std::unique_lock lock(mu_);
  while (true) {
    wake_.wait_for(lock, kPoll, [&] {
      return stop_ || flush_asked_ > flush_done_ ||
             pending_rows_ >= static_cast<std::uint64_t>(spec_.flush_rows);
    });
    // Due at flush_rows pending rows, or when the oldest pending row is flush_interval old on
    // the injected clock (after a failed attempt: an interval after it).
    const bool due =
        pending_rows_ > 0 && (pending_rows_ >= static_cast<std::uint64_t>(spec_.flush_rows) ||
                              clock_.Now() - oldest_pending_ >= spec_.flush_interval);
    const bool stopping = stop_;
    const std::uint64_t asked = flush_asked_;
    const bool forced = stopping || asked > flush_done_;
    // Rendering as requests come keeps the writer's work spread out; the rows stay pending
    // (and count against the queue bound) until published.
    spare_.swap(queue_);
    lock.unlock();

    Render(spare_);
    spare_.clear();
    const std::uint64_t rows = batch_.num_rows();
    base::Status status = base::Status::Ok();
    const bool publish = rows > 0 && (due || forced);
    if (publish) status = Publish();

    lock.lock();
    if (publish) {
      last_error_ = status;
      if (status.ok()) {
        pending_rows_ -= rows;
        if (pending_rows_ > 0) oldest_pending_ = clock_.Now();
      } else {
        failed_flushes_.fetch_add(1, std::memory_order_relaxed);
        if (stopping) {
          lost_rows_.fetch_add(rows, std::memory_order_relaxed);
          pending_rows_ -= rows;
        } else {
          oldest_pending_ = clock_.Now();  // the next attempt one interval later
        }
      }
    }
    flush_done_ = asked;
    done_.notify_all();
    if (stopping) return;
  }
}

void ServingLog::Render(std::vector<LoggedRequest>& requests) {
  std::string features;
  for (LoggedRequest& r : requests) {
    const auto request = static_cast<std::int64_t>(next_request_++);
    for (const LoggedLookup& l : r.lookups) {
      for (size_t e = 0; e < l.entities.size() && e < r.entity_json.size(); ++e) {
        features.clear();
        features += '{';
        bool first = true;
        for (const engine::OnlineFeature& f : l.entities[e]) {
          if (!first) features += ',';
          first = false;
          AppendJsonString(features, f.name);
          features += ":{\"value\":";
          AppendJsonValue(features, f.value);
          features += ",\"status\":\"";
          features += engine::StatusName(f.status);
          features += "\"}";
        }
        features += '}';
        batch_.column(0).AppendTimestamp(r.served_at);
        batch_.column(1).AppendTimestamp(r.at);
        batch_.column(2).AppendInt64(request);
        batch_.column(3).AppendString(l.view);
        batch_.column(4).AppendString(l.source_version);
        batch_.column(5).AppendString(l.definition_hash);
        batch_.column(6).AppendString(r.entity_json[e]);
        batch_.column(7).AppendString(features);
      }
    }
  }
}

base::Status ServingLog::Publish() {
  ServingLogWriterState& w = *writer_state_;
  const auto rows = static_cast<std::int64_t>(batch_.num_rows());
  const fs::path file = w.staging.path() / ("part-" + std::to_string(parts_++) + ".parquet");
  SLUICE_RETURN_IF_ERROR(w.db.Execute(std::string("COPY (SELECT * FROM ") + kRowsFunction +
                                      "()) TO " + warehouse::QuoteLiteral(file.string()) +
                                      " (FORMAT parquet, COMPRESSION zstd)"));
  std::error_code ec;
  const auto bytes = fs::file_size(file, ec);
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
  m.outputs.push_back(lake::OutputFile{"data", sha, ec ? 0 : bytes, rows});
  m.rows.read += rows;
  m.rows.loaded += rows;
  m.created_at = base::FormatTime(clock_.Now());
  SLUICE_ASSIGN_OR_RETURN(lake::Lake::PublishResult published, lake_.Publish(std::move(m)));
  last_version_ = std::move(published.manifest);
  rows_.fetch_add(static_cast<std::uint64_t>(rows), std::memory_order_relaxed);
  versions_.fetch_add(1, std::memory_order_relaxed);
  batch_ = types::Batch(ServingLogSchema());
  return base::Status::Ok();
}

ServingLogCounts ServingLog::Counts() const {
  ServingLogCounts c;
  c.sampled = sampled_.load(std::memory_order_relaxed);
  c.dropped = dropped_.load(std::memory_order_relaxed);
  c.rows = rows_.load(std::memory_order_relaxed);
  c.versions = versions_.load(std::memory_order_relaxed);
  c.failed_flushes = failed_flushes_.load(std::memory_order_relaxed);
  c.lost_rows = lost_rows_.load(std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  c.pending_rows = pending_rows_;
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
