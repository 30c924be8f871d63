#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/result.h"
#include "base/status.h"
#include "config/project.h"

namespace sluice::store {

// One online value's address. `entity` is the engine's canonical key bytes and may hold any
// byte (NUL included); `view` is a feature view name (see ValidateViewName in key_layout.h).
struct StoreKey {
  std::string view;
  std::string entity;
};

// What a view's online values were built from, written in the same atomic write as the values
// so that the watermark never claims data the store does not hold. Opaque to the store: the
// materializer fills it in and serving reads it back (freshness, feature versions).
struct ViewMeta {
  std::string source_version;            // the dataset version id the values were computed from
  std::string definition_hash;           // the view definition's hash
  std::int64_t newest_event_micros = 0;  // the newest event time behind any stored value
  std::int64_t entities = 0;             // how many entities the view holds
  std::string materialized_at;           // ISO 8601 UTC, when the write happened
  std::int32_t encoding_version = 1;     // version of the engine's value encoding

  friend bool operator==(const ViewMeta&, const ViewMeta&) = default;
};

// Values of some entities of a view and the view's meta, read at one consistent point of the
// store: a reader learns which definition and generation the values it got were written for.
struct ViewValues {
  std::vector<std::optional<std::string>> values;  // as MultiGet
  std::optional<ViewMeta> meta;                    // as Meta
};

// A small named value kept beside a view's values, written in the same atomic write as them:
// a stream's consumed offsets travel with the states they produced, so a restart resumes
// exactly where the stored states end. `name` is 1..200 bytes of [A-Za-z0-9_.-].
struct SideEntry {
  std::string name;
  std::string value;
};

// What a conditional write (WriteStateIf) expects a side entry of the view to hold when it
// happens: exactly `value`, or (nullopt) no entry at all.
struct SideExpectation {
  std::string name;
  std::optional<std::string> value;
};

// One part of an entity's stored state, under a key of its own beside the entity's value: the
// engine splits a heavy entity's state into parts (time-ordered chunks of events and their
// partial aggregates) so that an update rewrites the few parts that change, not the whole
// state. `part` is a short opaque name chosen by the engine (any bytes).
struct PartKey {
  std::string entity;
  std::string part;
};

// A part to store, or (value nullopt) to delete.
struct PartWrite {
  std::string entity;
  std::string part;
  std::optional<std::string> value;
};

// A key-value store of per-entity state, one namespace per feature view. Values are opaque bytes
// (the engine's versioned per-entity state encoding); the store never looks inside them.
//
// Every method is thread-safe: one instance serves many request threads. Errors are values;
// `retryable()` is set when trying again can help (a server that cannot be reached, a timeout,
// a store locked by another writer).
class OnlineStore {
 public:
  virtual ~OnlineStore() = default;

  // Stores every (entity, value) pair of `entity_values` and `meta` for `view` in one write.
  // A concurrent reader sees an entity's old value or its new one, never a mix, and a MultiGet
  // sees all of a batch or none of it. On error nothing or (Redis only, when the connection
  // drops mid-reply) possibly all of the batch was applied: rewriting the same batch is safe.
  // Duplicate entities within a batch: the last one wins. Fails on a read-only store.
  virtual base::Status Write(const std::string& view,
                             const std::vector<std::pair<std::string, std::string>>& entity_values,
                             const ViewMeta& meta) = 0;

  // Write, and `side` entries of `view` in the same atomic write (RocksDB: one write batch;
  // Redis: inside the same MULTI/EXEC), so no reader or restart sees the values without the
  // side entries or the other way round.
  virtual base::Status WriteWithSide(
      const std::string& view,
      const std::vector<std::pair<std::string, std::string>>& entity_values, const ViewMeta& meta,
      const std::vector<SideEntry>& side) = 0;

  // Write (or with `replace`, Replace: every value and part of the view not in this write is
  // removed), with entity parts put or deleted and side entries, all in the same atomic write
  // (RocksDB: one write batch; Redis: one MULTI/EXEC, then Replace's removal as for Replace).
  // Write, WriteWithSide and Replace are this with fewer arguments.
  virtual base::Status WriteState(
      const std::string& view,
      const std::vector<std::pair<std::string, std::string>>& entity_values,
      const std::vector<PartWrite>& parts, const ViewMeta& meta, const std::vector<SideEntry>& side,
      bool replace) = 0;

  // WriteState without replace, done only if every side entry in `expect` holds exactly what it
  // expects at the moment of the write (RocksDB: checked and written under the writer's lock;
  // Redis: WATCH, a check, then the MULTI/EXEC, which the server refuses if a watched entry
  // changed in between). Otherwise nothing is written and the result is kFailedPrecondition
  // naming the entry. Workers of a consumer group fence each other with it: each write expects
  // the partition cursors its writer last wrote or read, so a worker that lost a partition
  // without noticing (stalled past its session timeout) cannot overwrite the new owner's states.
  virtual base::Status WriteStateIf(
      const std::string& view,
      const std::vector<std::pair<std::string, std::string>>& entity_values,
      const std::vector<PartWrite>& parts, const ViewMeta& meta, const std::vector<SideEntry>& side,
      const std::vector<SideExpectation>& expect) = 0;

  // The parts `keys` of entities of `view`, in order, std::nullopt where there is none; one
  // round trip, one consistent point in time, as MultiGet.
  virtual base::Result<std::vector<std::optional<std::string>>> MultiGetParts(
      const std::string& view, const std::vector<PartKey>& keys) = 0;

  // The side entry `name` of `view`, or std::nullopt if none was written.
  virtual base::Result<std::optional<std::string>> ReadSide(const std::string& view,
                                                            const std::string& name) = 0;

  // Write, for a batch that is the view's whole content (a full re-materialization): every
  // entity of `view` not in `entity_values` is removed too, so an entity that left the source
  // stops being served. RocksDB: one atomic batch, as Write. Redis: the view's other keys are
  // found first (SCAN), then removed (UNLINK) in the same MULTI/EXEC as the batch and meta, so a
  // reader sees the old content or the new one; keys another writer adds to the view between
  // the SCAN and the EXEC are not removed (a replacing writer is the view's only writer).
  // Fails on a read-only store.
  virtual base::Status Replace(
      const std::string& view,
      const std::vector<std::pair<std::string, std::string>>& entity_values,
      const ViewMeta& meta) = 0;

  // The values of `entities` in `view`, in order, std::nullopt where there is none. One round
  // trip, one point in time: all values come from the same consistent state of the store.
  virtual base::Result<std::vector<std::optional<std::string>>> MultiGet(
      const std::string& view, const std::vector<std::string>& entities) = 0;

  // MultiGet and Meta in one round trip at one consistent point: the meta describes exactly the
  // write the values come from (or a later one that did not touch them). `sluice serve` checks
  // the meta's definition against the plan it reads the values with, so a view rebuilt into a
  // new generation is never read with the old plan (docs/serving.md).
  virtual base::Result<ViewValues> MultiGetWithMeta(const std::string& view,
                                                    const std::vector<std::string>& entities) = 0;

  // MultiGetParts and Meta in one round trip at one consistent point (as MultiGetWithMeta):
  // parts read after a head belong to the head's generation only if the meta still names it.
  virtual base::Result<ViewValues> MultiGetPartsWithMeta(const std::string& view,
                                                         const std::vector<PartKey>& keys) = 0;

  // The meta recorded by the last Write to `view`, or std::nullopt if the view has never been
  // written (or was deleted).
  virtual base::Result<std::optional<ViewMeta>> Meta(const std::string& view) = 0;

  // Removes every value and part of `view` and its meta (for a re-materialization). The meta goes
  // first, so a reader that finds meta also finds the values it describes. Fails on a read-only
  // store.
  virtual base::Status DeleteView(const std::string& view) = 0;

  // Brings a read-only handle up to date with what the writer has committed so far. A no-op
  // where reads are always current (Redis, a read-write RocksDB handle).
  virtual base::Status CatchUp() { return base::Status::Ok(); }

  // "rocksdb at PATH" or "redis at HOST:PORT/DB" (never a password), for messages and logs.
  virtual std::string Describe() const = 0;
};

// Tuning that has sensible defaults; tests and benchmarks change it.
struct StoreOptions {
  // RocksDB, read-only: how often a background thread catches up with the writer process.
  // Zero turns the thread off: the handle then only moves on CatchUp().
  std::chrono::milliseconds follow_interval{50};
  // RocksDB: the block cache for data blocks, and the memtable size (at which it is flushed).
  std::size_t block_cache_bytes = std::size_t{64} << 20;
  std::size_t write_buffer_bytes = std::size_t{64} << 20;
  // Redis: how long to wait for a connection and for each reply.
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds command_timeout{10000};
  // Redis: a Write sends MSETs of at most this many keys (inside one MULTI/EXEC), so no single
  // command grows without bound.
  std::size_t max_keys_per_command = 1000;
};

// Opens the store `spec` describes. RocksDB: the directory spec.path, relative to `project_dir`
// unless absolute; created when opened for writing. Read-only RocksDB opens alongside a live
// writer process (as a RocksDB secondary instance that follows it) and fails with kNotFound when
// nothing was ever written there. Redis: spec.url, `redis://HOST[:PORT][/DB]` or
// `unix://PATH[?db=DB]`, password from the REDIS_PASSWORD environment variable; connects (and
// authenticates) before returning. `read_only` makes Write and DeleteView fail.
base::Result<std::unique_ptr<OnlineStore>> OpenOnlineStore(const config::OnlineStoreSpec& spec,
                                                           const std::filesystem::path& project_dir,
                                                           bool read_only,
                                                           const StoreOptions& options = {});

}  // namespace sluice::store
