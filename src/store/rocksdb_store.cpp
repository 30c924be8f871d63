#include "store/rocksdb_store.h"

#include <fcntl.h>
#include <rocksdb/cache.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <stdlib.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <system_error>
#include <thread>

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

rocksdb::Options MakeOptions(const StoreOptions& o, bool secondary) {
  rocksdb::Options opts;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = rocksdb::NewLRUCache(o.block_cache_bytes);
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
  }
  return opts;
}

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
    if (db_) {
      (void)db_->Close();
      db_.reset();
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
    const auto s = rocksdb::DB::Open(MakeOptions(options, false), path_.string(), &db);
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
    rocksdb::DB* db = nullptr;
    rocksdb::Options opts = MakeOptions(options, true);
    // The reader follows the writer's table files only, never its WAL: a secondary that replays
    // the WAL keeps those entries in its active memtable after the writer has flushed them, and
    // reads consult that memtable first (RocksDB 7.8, DBImplSecondary::TryCatchUpWithPrimary
    // drops only immutable memtables; facebook/rocksdb#14444, #15051). Old values there then
    // hide newer ones in the tables: a reader saw a view's old meta and old entities beside an
    // entity the old view lacks (MultiGet), or an old view indefinitely (Get). The writer
    // flushes every write instead (FlushWrite), so the tables hold every acknowledged write, and
    // a WAL directory of the reader's own (empty) leaves it nothing to replay.
    opts.wal_dir = secondary_dir_;
    const auto s = rocksdb::DB::OpenAsSecondary(opts, path_.string(), secondary_dir_, &db);
    if (!s.ok()) return FromRocks(s, "opening " + Describe() + " read-only");
    db_.reset(db);
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
    SLUICE_RETURN_IF_ERROR(FromRocks(s, "writing view '" + view + "' to " + Describe()));
    return FlushWrite("writing view '" + view + "'");
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
    SLUICE_RETURN_IF_ERROR(FromRocks(s, "deleting view '" + view + "' from " + Describe()));
    return FlushWrite("deleting view '" + view + "'");
  }

  base::Status CatchUp() override {
    if (!read_only_) return base::Status::Ok();
    rocksdb::Status s;
    for (int attempt = 0; attempt < kCatchUpAttempts; ++attempt) {
      s = db_->TryCatchUpWithPrimary();
      if (s.ok()) return base::Status::Ok();
    }
    return FromRocks(s, "catching up with the writer of " + Describe());
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

  // Readers see only the writer's table files (OpenFollower), so a write is done once it is in
  // one: the flush moves the whole memtable, so a WriteBatch reaches readers whole. The batch is
  // already in the WAL, so a failed flush loses nothing: the next flush or open carries it.
  base::Status FlushWrite(const std::string& what) {
    const auto s = db_->Flush(rocksdb::FlushOptions());
    return FromRocks(s, what + " to " + Describe() + ": flushing it for the readers");
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
  std::string secondary_dir_;
  int writer_lock_fd_ = -1;  // held while open for writing (TakeWriterLock)
  std::unique_ptr<rocksdb::DB> db_;

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
