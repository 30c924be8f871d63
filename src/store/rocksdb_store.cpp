#include "store/rocksdb_store.h"

#include <fcntl.h>
#include <pthread.h>
#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "base/log.h"
#include "store/key_layout.h"

namespace sluice::store {
namespace {

namespace fs = std::filesystem;

// Bloom filter bits per key: ~1% false positives, so a look-up of a missing entity almost never
// touches a data block.
constexpr double kBloomBitsPerKey = 10.0;
// A follower whose catch-up fails because the writer deleted a file between reading its
// MANIFEST and opening the file simply tries again; a few rounds settle every such race.
constexpr int kCatchUpAttempts = 3;
// A reader replaces its instance when the writer has flushed (RocksDbStore::CatchUpLocked); if
// the writer flushes again while each new instance opens, it gives up after this many and
// reports the store unavailable until its next catch-up.
constexpr int kOpenAttempts = 8;
// A reader's memtable hashes keys by up to this many leading bytes (see MakeOptions), into this
// many buckets (8 bytes each; more entities than buckets share them in small skiplists).
constexpr std::size_t kHashedKeyBytes = 1024;
constexpr std::size_t kMemtableBuckets = 1 << 20;

// The first key past every "s1/v/VIEW/..." key, for a range tombstone over a view's values.
std::string ValueRangeEnd(const std::string& value_prefix) {
  std::string end = value_prefix;
  end.back() = static_cast<char>('/' + 1);
  return end;
}

bool IsLockError(const rocksdb::Status& s) {
  return s.IsIOError() && s.ToString().find("lock") != std::string::npos;
}

// Maps a RocksDB status to sluice's, with `what` ("opening rocksdb at PATH") as the context.
base::Status FromRocks(const rocksdb::Status& s, const std::string& what) {
  const std::string m = what + ": " + s.ToString();
  if (s.ok()) return base::Status::Ok();
  if (IsLockError(s)) {
    return base::IoError(what +
                             ": another process has it open for writing (RocksDB allows one "
                             "writer; readers open it read-only): " +
                             s.ToString(),
                         /*retryable=*/true);
  }
  if (s.IsBusy() || s.IsTryAgain()) return base::Unavailable(m);
  if (s.IsTimedOut()) return base::Timeout(m);
  if (s.IsCorruption()) return base::Corruption(m);
  if (s.IsNotFound() || s.IsPathNotFound()) return base::NotFound(m);
  if (s.IsInvalidArgument()) return base::InvalidArgument(m);
  if (s.IsNotSupported()) return base::FailedPrecondition(m);
  if (s.IsIOError()) return base::IoError(m);
  return base::Internal(m);
}

// `cache` is shared by a reader's successive instances: block cache keys name the table file
// (its session id and number), not the instance, so a reopened reader starts warm.
rocksdb::Options MakeOptions(const StoreOptions& o, bool secondary,
                             std::shared_ptr<rocksdb::Cache> cache) {
  rocksdb::Options opts;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = std::move(cache);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(kBloomBitsPerKey));
  table.optimize_filters_for_memory = true;
  // Point look-ups only: a hash index inside each data block skips the binary search.
  table.data_block_index_type = rocksdb::BlockBasedTableOptions::kDataBlockBinaryAndHash;
  opts.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // A bloom filter over the memtable too: freshly materialized views are read from there.
  opts.memtable_whole_key_filtering = true;
  opts.memtable_prefix_bloom_size_ratio = 0.02;
  opts.write_buffer_size = o.write_buffer_bytes;
  opts.level_compaction_dynamic_level_bytes = true;
  opts.max_background_jobs = 2;

  const auto supported = rocksdb::GetSupportedCompressions();
  auto has = [&](rocksdb::CompressionType t) {
    return std::find(supported.begin(), supported.end(), t) != supported.end();
  };
  if (has(rocksdb::kLZ4Compression)) opts.compression = rocksdb::kLZ4Compression;
  if (has(rocksdb::kZSTD)) opts.bottommost_compression = rocksdb::kZSTD;

  opts.keep_log_file_num = 4;
  opts.max_log_file_size = 16 << 20;
  opts.create_if_missing = !secondary;
  if (secondary) {
    // A secondary must keep every table file open: the writer may delete one (after a
    // compaction) before the secondary has caught up past it, and an open file stays readable.
    opts.max_open_files = -1;
    // It catches up every follow interval (50 ms by default), and each time RocksDB opened the
    // table files on 16 new threads: 6% of a busy server's time spent starting threads.
    opts.max_file_opening_threads = 1;
    // The secondary replays the writer's unflushed log into a memtable of its own, and a fresh
    // materialization is all there: a skiplist of a million entities cost a quarter of a
    // look-up's time in cache misses. Only point reads (and range tombstones, which RocksDB keeps
    // in a skiplist of their own) reach a reader, so a hash of whole keys serves it: a prefix
    // longer than any key is the key itself.
    opts.prefix_extractor.reset(rocksdb::NewCappedPrefixTransform(kHashedKeyBytes));
    opts.memtable_factory.reset(rocksdb::NewHashSkipListRepFactory(kMemtableBuckets));
    // The bucket array is allocated with each memtable; RocksDB refuses a memtable that starts
    // out over its size. A secondary never flushes, so the size only decides when its replay
    // starts another memtable.
    opts.write_buffer_size = std::max(o.write_buffer_bytes, 8 * kMemtableBuckets * sizeof(void*));
  }
  return opts;
}

// The oldest of the writer's log files that holds entries not yet in a table file, as `db`'s
// view of the store says ("rocksdb.min-log-number-to-keep"; a secondary takes it from the
// writer's MANIFEST). A flush raises it; a compaction does not. 0 until the first flush (every
// log); nullopt if RocksDB does not say.
std::optional<std::uint64_t> OldestUnflushedLog(rocksdb::DB& db) {
  std::uint64_t log = 0;
  if (!db.GetIntProperty(rocksdb::DB::Properties::kMinLogNumberToKeep, &log)) return std::nullopt;
  return log;
}

bool Unflushed(std::uint64_t log, std::optional<std::uint64_t> oldest_unflushed) {
  return !oldest_unflushed || log >= *oldest_unflushed;
}

// Whether `db` holds no replayed log entries (every sluice batch has at least a meta Put or
// Delete, so a replayed batch always counts). Unknown counts as not empty.
bool MemtablesEmpty(rocksdb::DB& db) {
  std::uint64_t active = 0;
  std::uint64_t immutable = 0;
  return db.GetIntProperty(rocksdb::DB::Properties::kNumEntriesActiveMemTable, &active) &&
         db.GetIntProperty(rocksdb::DB::Properties::kNumEntriesImmMemTables, &immutable) &&
         active == 0 && immutable == 0;
}

// One of the writer's log files ("000123.log").
struct LogFile {
  std::uint64_t number = 0;
  std::uintmax_t bytes = 0;
};

// The writer's log files, by ascending number.
std::vector<LogFile> LogFiles(const fs::path& store) {
  std::vector<LogFile> logs;
  std::error_code ec;
  for (fs::directory_iterator it(store, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.size() <= 4 || name.compare(name.size() - 4, 4, ".log") != 0) continue;
    const char* const last = name.data() + name.size() - 4;
    LogFile log;
    const auto [ptr, err] = std::from_chars(name.data(), last, log.number);
    if (err != std::errc() || ptr != last) continue;
    std::error_code size_ec;
    log.bytes = it->file_size(size_ec);  // a log the writer just deleted counts as empty
    logs.push_back(log);
  }
  std::sort(logs.begin(), logs.end(),
            [](const LogFile& a, const LogFile& b) { return a.number < b.number; });
  return logs;
}

// A readers-writer lock that lets a waiting catch-up in ahead of new reads: glibc's default
// prefers readers, and a busy server's overlapping reads could hold a catch-up off for good.
class CatchUpLock {
 public:
  CatchUpLock() {
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&lock_, &attr);
    pthread_rwlockattr_destroy(&attr);
  }
  ~CatchUpLock() { pthread_rwlock_destroy(&lock_); }
  CatchUpLock(const CatchUpLock&) = delete;
  CatchUpLock& operator=(const CatchUpLock&) = delete;

  void lock() { pthread_rwlock_wrlock(&lock_); }
  void unlock() { pthread_rwlock_unlock(&lock_); }
  void lock_shared() { pthread_rwlock_rdlock(&lock_); }
  void unlock_shared() { pthread_rwlock_unlock(&lock_); }

 private:
  pthread_rwlock_t lock_;
};

class RocksDbStore final : public OnlineStore {
 public:
  RocksDbStore(fs::path path, bool read_only) : path_(std::move(path)), read_only_(read_only) {}

  ~RocksDbStore() override {
    {
      std::lock_guard lock(follow_mu_);
      stop_ = true;
    }
    follow_cv_.notify_all();
    if (follower_.joinable()) follower_.join();
    {
      Instance last;  // closed here, before the reader's directory goes
      last.db = std::move(db_);
      last.dir = std::move(instance_dir_);
    }
    if (writer_lock_fd_ >= 0) ::close(writer_lock_fd_);
    if (!secondary_dir_.empty()) {
      std::error_code ec;
      fs::remove_all(secondary_dir_, ec);
    }
  }

  base::Status OpenWriter(const StoreOptions& options) {
    std::error_code ec;
    fs::create_directories(path_, ec);
    if (ec) {
      return base::IoError("cannot create the online store directory " + path_.string() + ": " +
                           ec.message());
    }
    SLUICE_RETURN_IF_ERROR(TakeWriterLock());
    rocksdb::DB* db = nullptr;
    const auto s = rocksdb::DB::Open(
        MakeOptions(options, false, rocksdb::NewLRUCache(options.block_cache_bytes)),
        path_.string(), &db);
    if (!s.ok()) return FromRocks(s, "opening " + Describe() + " for writing");
    db_.reset(db);
    return base::Status::Ok();
  }

  base::Status OpenFollower(const StoreOptions& options) {
    std::error_code ec;
    if (!fs::exists(path_ / "CURRENT", ec)) {
      return base::NotFound("no online store at " + path_.string() +
                            ": nothing has been materialized there yet");
    }
    // The secondary's own files (its info log) live in a private temporary directory: the
    // reader may not be allowed to write into the store, and two readers must not share one.
    std::string tmpl = (fs::temp_directory_path(ec) / "sluice-rocksdb-reader.XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      return base::IoError("cannot create a temporary directory for the online store reader (" +
                           tmpl + ")");
    }
    secondary_dir_ = tmpl;
    options_ = options;
    block_cache_ = rocksdb::NewLRUCache(options.block_cache_bytes);
    // An instance just opened holds only log entries newer than every table file it knows of:
    // it serves a consistent state even if the writer flushed meanwhile (the next catch-up
    // sees that and replaces it).
    SLUICE_ASSIGN_OR_RETURN(Instance fresh, OpenInstance());
    (void)Install(std::move(fresh));
    if (options.follow_interval.count() > 0) {
      follower_ = std::thread([this, interval = options.follow_interval] { Follow(interval); });
    }
    return base::Status::Ok();
  }

  base::Status Write(const std::string& view,
                     const std::vector<std::pair<std::string, std::string>>& entity_values,
                     const ViewMeta& meta) override {
    return WriteBatch(view, entity_values, {}, meta, /*replace=*/false);
  }

  base::Status WriteState(const std::string& view,
                          const std::vector<std::pair<std::string, std::string>>& entity_values,
                          const std::vector<PartWrite>& parts, const ViewMeta& meta,
                          const std::vector<SideEntry>& side, bool replace) override {
    return WriteBatch(view, entity_values, parts, meta, replace, &side);
  }

  base::Status WriteWithSide(const std::string& view,
                             const std::vector<std::pair<std::string, std::string>>& entity_values,
                             const ViewMeta& meta, const std::vector<SideEntry>& side) override {
    return WriteBatch(view, entity_values, {}, meta, /*replace=*/false, &side);
  }

  base::Status WriteStateIf(const std::string& view,
                            const std::vector<std::pair<std::string, std::string>>& entity_values,
                            const std::vector<PartWrite>& parts, const ViewMeta& meta,
                            const std::vector<SideEntry>& side,
                            const std::vector<SideExpectation>& expect) override {
    SLUICE_RETURN_IF_ERROR(CheckWritable("write"));
    // One writer process per store (the writer lock): checking and writing under this
    // handle's lock leaves no other writer in between.
    std::lock_guard lock(conditional_mu_);
    for (const SideExpectation& e : expect) {
      SLUICE_ASSIGN_OR_RETURN(std::optional<std::string> now, ReadSide(view, e.name));
      if (now != e.value) {
        return base::FailedPrecondition("'" + e.name + "' of view '" + view + "' in " + Describe() +
                                        " is not what this writer expects");
      }
    }
    return WriteBatch(view, entity_values, parts, meta, /*replace=*/false, &side);
  }

  base::Result<std::optional<std::string>> ReadSide(const std::string& view,
                                                    const std::string& name) override {
    SLUICE_RETURN_IF_ERROR(ValidateViewName(view));
    SLUICE_RETURN_IF_ERROR(ValidateSideName(name));
    std::string bytes;
    const auto lock = LockForRead();
    if (!db_) return NoInstance();
    const auto s = db_->Get(rocksdb::ReadOptions(), SideKey(view, name), &bytes);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok()) {
      return FromRocks(s, "reading '" + name + "' of view '" + view + "' from " + Describe());
    }
    return std::optional<std::string>(std::move(bytes));
  }

  base::Status Replace(const std::string& view,
                       const std::vector<std::pair<std::string, std::string>>& entity_values,
                       const ViewMeta& meta) override {
    return WriteBatch(view, entity_values, {}, meta, /*replace=*/true);
  }

  base::Status WriteBatch(const std::string& view,
                          const std::vector<std::pair<std::string, std::string>>& entity_values,
                          const std::vector<PartWrite>& parts, const ViewMeta& meta, bool replace,
                          const std::vector<SideEntry>* side = nullptr) {
    SLUICE_RETURN_IF_ERROR(CheckWritable("write"));
    SLUICE_RETURN_IF_ERROR(ValidateViewName(view));
    if (side != nullptr) {
      for (const SideEntry& e : *side)
        SLUICE_RETURN_IF_ERROR(ValidateSideName(e.name));
    }
    rocksdb::WriteBatch batch;
    const std::string prefix = ValuePrefix(view);
    // A range tombstone under the new values, in the same batch: readers see the old view or
    // the new one, never a mix.
    const std::string part_prefix = PartPrefix(view);
    if (replace) {
      batch.DeleteRange(prefix, ValueRangeEnd(prefix));
      batch.DeleteRange(part_prefix, ValueRangeEnd(part_prefix));
    }
    std::string key = prefix;
    for (const auto& [entity, value] : entity_values) {
      key.resize(prefix.size());
      key.append(entity);
      batch.Put(key, value);
    }
    for (const PartWrite& p : parts) {
      if (p.value) {
        batch.Put(PartKeyBytes(view, p.entity, p.part), *p.value);
      } else {
        batch.Delete(PartKeyBytes(view, p.entity, p.part));
      }
    }
    batch.Put(MetaKey(view), EncodeViewMeta(meta));
    if (side != nullptr) {
      for (const SideEntry& e : *side)
        batch.Put(SideKey(view, e.name), e.value);
    }
    // Not synced: the WAL reaches the OS on every write, which survives a crash of the process.
    // A machine crash can lose the newest batches, but the WAL replays a prefix of them, meta
    // included, so the store is left at an older watermark rather than an inconsistent one.
    const auto s = db_->Write(rocksdb::WriteOptions(), &batch);
    return FromRocks(s, "writing view '" + view + "' to " + Describe());
  }

  base::Result<std::vector<std::optional<std::string>>> MultiGet(
      const std::string& view, const std::vector<std::string>& entities) override {
    SLUICE_RETURN_IF_ERROR(ValidateViewName(view));
    std::vector<std::string> keys;
    keys.reserve(entities.size());
    for (const auto& e : entities)
      keys.push_back(ValueKey(view, e));
    return GetKeys(view, keys);
  }

  base::Result<ViewValues> MultiGetWithMeta(const std::string& view,
                                            const std::vector<std::string>& entities) override {
    SLUICE_RETURN_IF_ERROR(ValidateViewName(view));
    std::vector<std::string> keys;
    keys.reserve(entities.size() + 1);
    for (const auto& e : entities)
      keys.push_back(ValueKey(view, e));
    return GetWithMeta(view, std::move(keys));
  }

  base::Result<ViewValues> MultiGetPartsWithMeta(const std::string& view,
                                                 const std::vector<PartKey>& parts) override {
    SLUICE_RETURN_IF_ERROR(ValidateViewName(view));
    std::vector<std::string> keys;
    keys.reserve(parts.size() + 1);
    for (const auto& p : parts)
      keys.push_back(PartKeyBytes(view, p.entity, p.part));
    return GetWithMeta(view, std::move(keys));
  }

  // `keys` and the view's meta key in one batched MultiGet.
  base::Result<ViewValues> GetWithMeta(const std::string& view, std::vector<std::string> keys) {
    const std::string meta_key = MetaKey(view);
    keys.push_back(meta_key);
    // One batched MultiGet: the meta at the same sequence number as the values.
    SLUICE_ASSIGN_OR_RETURN(auto got, GetKeys(view, keys));
    ViewValues out;
    if (got.back()) {
      // On the request path: the store's name is added only to an error.
      auto meta = DecodeViewMeta(*got.back(), meta_key);
      if (!meta.ok()) return meta.status().WithContext(Describe());
      out.meta = std::move(*meta);
    }
    got.pop_back();
    out.values = std::move(got);
    return out;
  }

  base::Result<std::vector<std::optional<std::string>>> MultiGetParts(
      const std::string& view, const std::vector<PartKey>& parts) override {
    SLUICE_RETURN_IF_ERROR(ValidateViewName(view));
    std::vector<std::string> keys;
    keys.reserve(parts.size());
    for (const auto& p : parts)
      keys.push_back(PartKeyBytes(view, p.entity, p.part));
    return GetKeys(view, keys);
  }

  base::Result<std::vector<std::optional<std::string>>> GetKeys(
      const std::string& view, const std::vector<std::string>& keys) {
    const std::size_t n = keys.size();
    std::vector<std::optional<std::string>> out(n);
    if (n == 0) return out;
    std::vector<rocksdb::Slice> slices;
    slices.reserve(n);
    for (const auto& k : keys)
      slices.emplace_back(k);
    std::vector<rocksdb::PinnableSlice> values(n);
    std::vector<rocksdb::Status> statuses(n);
    // The batched MultiGet reads every key at one sequence number: one consistent state.
    const auto lock = LockForRead();
    if (!db_) return NoInstance();
    db_->MultiGet(rocksdb::ReadOptions(), db_->DefaultColumnFamily(), n, slices.data(),
                  values.data(), statuses.data());
    for (std::size_t i = 0; i < n; ++i) {
      if (statuses[i].ok()) {
        out[i].emplace(values[i].data(), values[i].size());
      } else if (!statuses[i].IsNotFound()) {
        return FromRocks(statuses[i], "reading view '" + view + "' from " + Describe());
      }
    }
    return out;
  }

  base::Result<std::optional<ViewMeta>> Meta(const std::string& view) override {
    SLUICE_RETURN_IF_ERROR(ValidateViewName(view));
    const std::string key = MetaKey(view);
    std::string bytes;
    const auto lock = LockForRead();
    if (!db_) return NoInstance();
    const auto s = db_->Get(rocksdb::ReadOptions(), key, &bytes);
    if (s.IsNotFound()) return std::optional<ViewMeta>();
    if (!s.ok()) return FromRocks(s, "reading the meta of view '" + view + "' from " + Describe());
    SLUICE_ASSIGN_OR_RETURN(ViewMeta meta, DecodeViewMeta(bytes, key + " in " + Describe()));
    return std::optional<ViewMeta>(std::move(meta));
  }

  base::Status DeleteView(const std::string& view) override {
    SLUICE_RETURN_IF_ERROR(CheckWritable("delete a view"));
    SLUICE_RETURN_IF_ERROR(ValidateViewName(view));
    const std::string begin = ValuePrefix(view);
    rocksdb::WriteBatch batch;
    batch.Delete(MetaKey(view));
    // One range tombstone instead of a scan: constant cost, and atomic with the meta delete.
    batch.DeleteRange(begin, ValueRangeEnd(begin));
    const std::string parts = PartPrefix(view);
    batch.DeleteRange(parts, ValueRangeEnd(parts));
    const auto s = db_->Write(rocksdb::WriteOptions(), &batch);
    return FromRocks(s, "deleting view '" + view + "' from " + Describe());
  }

  base::Status CatchUp() override {
    if (!read_only_) return base::Status::Ok();
    std::lock_guard one_at_a_time(catch_up_mu_);
    std::vector<Instance> retired;
    base::Status result;
    const std::vector<LogFile> logs = LogFiles(path_);
    const bool watched_log_gone =
        watched_log_ && std::none_of(logs.begin(), logs.end(), [&](const LogFile& log) {
          return log.number == *watched_log_;
        });
    if (db_ && watched_log_gone) {
      // The writer has flushed since this instance looked: it deletes a log once a table file
      // holds all of it, oldest first, and the watched one is the oldest the instance counted
      // as unflushed. The instance has not caught up with that, so it is still consistent
      // and keeps serving while a new one opens; the swap is all that reads wait for.
      auto fresh = OpenInstance();
      if (fresh.ok()) {
        std::unique_lock lock(serve_lock_);
        retired.push_back(Install(std::move(*fresh)));
      }
      // On failure, catch up below instead: CatchUpLocked keeps that safe on its own.
    }
    if (retired.empty()) {
      // Reads wait for the catch-up: should it install a flush that the memtable's entries
      // predate, the instance must be replaced before anything reads it again (CatchUpLocked).
      std::unique_lock lock(serve_lock_);
      result = CatchUpLocked(logs, retired);
    }
    // Closing an old instance frees its memtables and table readers: not while reads wait.
    retired.clear();
    return result;
  }

  std::string Describe() const override { return "rocksdb at " + path_.string(); }

 private:
  // sluice's own writer lock, taken before RocksDB touches any file of the store: RocksDB rotates
  // its info log (LOG -> LOG.old.<n>) before it takes its LOCK file, so a second writer used to
  // fail now and then on another's log rotation instead of on the lock. The lock file holds the
  // holder's pid for the error message; flock(2) is released by the kernel when a process dies.
  base::Status TakeWriterLock() {
    const fs::path lock_path = path_ / "sluice-writer.lock";
    const int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
      return base::IoError("opening " + Describe() + " for writing: cannot open " +
                           lock_path.string() + ": " + std::strerror(errno));
    }
    while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      std::string holder;
      if (err == EWOULDBLOCK) {
        char buf[32] = {};
        const ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
        if (n > 0) holder = std::string(buf, static_cast<size_t>(n));
        while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' '))
          holder.pop_back();
      }
      ::close(fd);
      if (err != EWOULDBLOCK) {
        return base::IoError("opening " + Describe() + " for writing: cannot lock " +
                             lock_path.string() + ": " + std::strerror(err));
      }
      return base::IoError("opening " + Describe() +
                               " for writing: another process has it open for writing (" +
                               (holder.empty() ? "" : "pid " + holder + "; ") +
                               "RocksDB allows one writer; readers open it read-only)",
                           /*retryable=*/true);
    }
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0) {
      base::LogDebug("could not record the writer's pid in " + lock_path.string());
    }
    writer_lock_fd_ = fd;
    return base::Status::Ok();
  }

  // A secondary instance of the reader, with the directory of its info log.
  struct Instance {
    Instance() = default;
    Instance(Instance&&) = default;
    Instance& operator=(Instance&&) = default;
    ~Instance() {
      if (db) (void)db->Close();
      db.reset();
      if (!dir.empty()) {
        std::error_code ec;
        fs::remove_all(dir, ec);
      }
    }
    std::unique_ptr<rocksdb::DB> db;
    fs::path dir;
    std::optional<std::uint64_t> oldest_log;  // OldestUnflushedLog at open
    std::vector<LogFile> logs;                // the writer's logs just before it opened
  };

  // Brings db_ level with the writer's MANIFEST and log, and replaces it when the writer has
  // flushed what its memtable holds. Why: RocksDB 7.8's secondary replays the log into its
  // active memtable, and when the writer moves those entries into a table file,
  // TryCatchUpWithPrimary drops only immutable memtables; the active one keeps them until a
  // record of the writer's next log arrives, and reads consult it before the tables
  // (facebook/rocksdb#14444, #15051). Its old values then hide newer ones in the new table: a
  // view's old meta and entities beside an entity only the newer view holds (MultiGet), or the
  // old view for as long as the writer writes nothing (Get). A new instance reads the tables as
  // they are and replays only the log the writer has not flushed, which is newer than every
  // table. Caller holds serve_lock_ exclusively. Entries enter a memtable only from logs at or
  // past the oldest unflushed one (older ones are skipped), so the memtable can hold flushed
  // entries only once that number has grown past what it was when the memtable was known clean.
  base::Status CatchUpLocked(const std::vector<LogFile>& logs, std::vector<Instance>& retired) {
    if (db_) {
      rocksdb::Status s;
      for (int attempt = 0; attempt < kCatchUpAttempts; ++attempt) {
        s = db_->TryCatchUpWithPrimary();
        if (s.ok()) break;
      }
      // Checked even after a failed catch-up: it may have installed a flush before failing.
      const std::optional<std::uint64_t> oldest = OldestUnflushedLog(*db_);
      if ((oldest && oldest == oldest_log_) || MemtablesEmpty(*db_)) {
        if (oldest != oldest_log_) Watch(oldest, logs);
        return FromRocks(s, "catching up with the writer of " + Describe());
      }
      // The writer flushed between CatchUp's look at its logs and this catch-up.
      base::LogDebug(Describe() + ": the writer flushed during a catch-up; reopening the reader");
      Instance stale;
      stale.db = std::move(db_);
      stale.dir = std::move(instance_dir_);
      retired.push_back(std::move(stale));
    }
    auto fresh = OpenInstance();
    if (!fresh.ok()) {
      reopen_error_ = fresh.status().ToString();
      return fresh.status();
    }
    retired.push_back(Install(std::move(*fresh)));
    return base::Status::Ok();
  }

  // Opens a new secondary instance in a directory of its own (its info log; a second instance
  // in one directory would rename the first's log as it opens). An instance just opened holds
  // only log entries newer than every table file it knows of, so it is consistent, unless the
  // writer deleted a log while it opened (RocksDB 7.8, DBImplSecondary): it lists every log
  // file, then opens them all before replaying any, and one deleted in between makes it replay
  // none (PathNotFound, taken as success); and a log deleted after the instance read the
  // MANIFEST but before it listed the logs is missed. Either leaves it without writes its
  // tables do not hold, so such an open is detected and repeated.
  base::Result<Instance> OpenInstance() {
    base::Status last;
    for (int attempt = 0; attempt < kOpenAttempts; ++attempt) {
      Instance fresh;
      const std::vector<LogFile> logs_before = LogFiles(path_);
      fresh.dir = secondary_dir_ / std::to_string(++instances_opened_);
      std::error_code ec;
      fs::create_directory(fresh.dir, ec);
      if (ec) {
        return base::IoError("opening " + Describe() + " read-only: cannot create " +
                             fresh.dir.string() + ": " + ec.message());
      }
      rocksdb::DB* db = nullptr;
      const auto s = rocksdb::DB::OpenAsSecondary(MakeOptions(options_, true, block_cache_),
                                                  path_.string(), fresh.dir.string(), &db);
      fresh.db.reset(db);
      if (!s.ok()) return FromRocks(s, "opening " + Describe() + " read-only");
      const std::vector<LogFile> logs_after = LogFiles(path_);
      fresh.oldest_log = OldestUnflushedLog(*fresh.db);
      fresh.logs = logs_before;
      if (!MissedLogEntries(fresh, logs_before, logs_after)) return fresh;
      last = base::Unavailable("opening " + Describe() +
                               " read-only: the writer deleted a log file during each of " +
                               std::to_string(kOpenAttempts) + " attempts");
    }
    return last;
  }

  // Whether `fresh` may lack entries of the writer's unflushed logs (see OpenInstance).
  static bool MissedLogEntries(Instance& fresh, const std::vector<LogFile>& before,
                               const std::vector<LogFile>& after) {
    auto unflushed = [&](const LogFile& log) { return Unflushed(log.number, fresh.oldest_log); };
    auto present_after = [&](const LogFile& log) {
      return std::any_of(after.begin(), after.end(),
                         [&](const LogFile& a) { return a.number == log.number; });
    };
    bool deleted = false;
    for (const LogFile& log : before) {
      if (present_after(log)) continue;
      if (unflushed(log)) return true;
      deleted = true;
    }
    // A log went away, and unflushed entries were there before it opened, yet none were
    // replayed. (Not the sizes after: the writer may have appended to an empty log after the
    // instance read it. And only with a deletion: a log holding nothing but a record a killed
    // writer left half-written replays nothing either.)
    if (deleted && MemtablesEmpty(*fresh.db)) {
      for (const LogFile& log : before) {
        if (unflushed(log) && log.bytes > 0) return true;
      }
    }
    return false;
  }

  // Records `oldest` as db_'s oldest unflushed log, and which file of `logs` (a listing from
  // before db_ last synced) to watch for deletion.
  void Watch(std::optional<std::uint64_t> oldest, const std::vector<LogFile>& logs) {
    oldest_log_ = oldest;
    watched_log_.reset();
    for (const LogFile& log : logs) {
      if (Unflushed(log.number, oldest)) {
        watched_log_ = log.number;
        break;
      }
    }
  }

  // Makes `fresh` the instance reads use; returns the one it replaces. Caller holds
  // serve_lock_ exclusively (or nothing reads yet).
  Instance Install(Instance fresh) {
    Instance old;
    old.db = std::move(db_);
    old.dir = std::move(instance_dir_);
    db_ = std::move(fresh.db);
    instance_dir_ = std::move(fresh.dir);
    fresh.dir.clear();
    Watch(fresh.oldest_log, fresh.logs);
    reopen_error_.clear();
    return old;
  }

  // A reader's reads exclude its catch-ups; the writer's instance is never replaced.
  std::shared_lock<CatchUpLock> LockForRead() {
    return read_only_ ? std::shared_lock(serve_lock_) : std::shared_lock<CatchUpLock>();
  }

  // Only while db_ is empty: a reopen failed (a reader never serves from an instance that may
  // be stale, see CatchUpLocked).
  base::Status NoInstance() const {
    return base::Unavailable("reading " + Describe() +
                             ": the reader has no usable instance after the writer flushed (" +
                             reopen_error_ + "); it retries at its next catch-up");
  }

  base::Status CheckWritable(const std::string& what) const {
    if (!read_only_) return base::Status::Ok();
    return base::FailedPrecondition("cannot " + what + ": " + Describe() + " is open read-only");
  }

  // Follows the writer every `interval` until the store closes. Errors are logged once per
  // distinct message (a writer that keeps failing must not flood the log) and retried.
  void Follow(std::chrono::milliseconds interval) {
    std::string last_error;
    std::unique_lock lock(follow_mu_);
    while (!follow_cv_.wait_for(lock, interval, [this] { return stop_; })) {
      lock.unlock();
      const auto s = CatchUp();
      if (!s.ok() && s.ToString() != last_error) base::LogWarn(s.ToString());
      last_error = s.ok() ? "" : s.ToString();
      lock.lock();
    }
  }

  fs::path path_;
  bool read_only_;
  int writer_lock_fd_ = -1;          // held while open for writing (TakeWriterLock)
  std::unique_ptr<rocksdb::DB> db_;  // a reader's: empty after a failed reopen

  // Reader only. Reads hold serve_lock_ shared; a catch-up holds it exclusively while it
  // moves db_ on or replaces it. The members below change only under catch_up_mu_.
  std::mutex catch_up_mu_;
  CatchUpLock serve_lock_;
  fs::path secondary_dir_;  // private: one subdirectory per instance
  fs::path instance_dir_;   // db_'s subdirectory
  int instances_opened_ = 0;
  // OldestUnflushedLog when db_'s memtable was last known to hold nothing flushed, and the oldest
  // log file it then counted as unflushed (CatchUp's sign that the writer has flushed since).
  std::optional<std::uint64_t> oldest_log_;
  std::optional<std::uint64_t> watched_log_;
  std::string reopen_error_;  // why db_ is empty, for NoInstance
  StoreOptions options_;
  std::shared_ptr<rocksdb::Cache> block_cache_;

  std::mutex follow_mu_;
  std::mutex conditional_mu_;  // WriteStateIf: one check-and-write at a time
  std::condition_variable follow_cv_;
  bool stop_ = false;
  std::thread follower_;
};

}  // namespace

base::Result<std::unique_ptr<OnlineStore>> OpenRocksDbStore(const fs::path& path, bool read_only,
                                                            const StoreOptions& options) {
  auto store = std::make_unique<RocksDbStore>(path, read_only);
  SLUICE_RETURN_IF_ERROR(read_only ? store->OpenFollower(options) : store->OpenWriter(options));
  return std::unique_ptr<OnlineStore>(std::move(store));
}

}  // namespace sluice::store
