#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

#include "engine/entity_state.h"

namespace sluice::engine {

// Decoded entity heads kept between micro-batches by the only writer of those entities (the
// stream runtime for the partitions it owns): a live stream touches each entity about once per
// micro-batch, and reading its head back from the store and decoding it was a quarter of its CPU.
//
// The cache is only correct while it holds exactly what the store holds. Its owner must Clear()
// it whenever that may stop being true: a store write that failed after the states were updated
// here, partitions arriving or leaving (another writer may have written their entities), a
// generation switch, and before anything else writes the view. The states of the entities
// evicted or never cached are read from the store as before.
//
// Bounded by `max_bytes` of encoded heads (the head's size as stored, a proxy for its decoded
// size) between batches; the least recently updated entities go first (EndBatch). Within a batch
// nothing is evicted, so the heads Find returned stay valid until EndBatch. 0 keeps nothing.
class EntityStateCache {
 public:
  explicit EntityStateCache(std::size_t max_bytes) : max_bytes_(max_bytes) {}
  EntityStateCache(const EntityStateCache&) = delete;
  EntityStateCache& operator=(const EntityStateCache&) = delete;
  EntityStateCache(EntityStateCache&&) = default;
  EntityStateCache& operator=(EntityStateCache&&) = default;

  // The cached head of `entity` (nullptr: not cached), marked as the most recently used. The
  // caller may update it in place, then must call Stored() with its new encoded size (or
  // Clear() if that update does not reach the store).
  EntityState* Find(const std::string& entity);
  // Records the encoded size of `entity`'s head after an in-place update (Find).
  void Stored(const std::string& entity, std::size_t encoded_bytes);
  // Caches `state` as `entity`'s head (replacing any), `encoded_bytes` its stored size. A head
  // larger than the whole budget is not kept.
  void Put(const std::string& entity, EntityState&& state, std::size_t encoded_bytes);
  // Evicts the least recently used heads until the cache is within its budget.
  void EndBatch();
  void Clear();

  bool enabled() const { return max_bytes_ > 0; }
  std::size_t size() const { return entries_.size(); }
  std::size_t bytes() const { return bytes_; }
  std::int64_t hits() const { return hits_; }
  std::int64_t misses() const { return misses_; }

 private:
  struct Entry {
    EntityState state;
    std::size_t bytes = 0;
    std::list<std::string>::iterator lru;
  };
  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  std::unordered_map<std::string, Entry> entries_;
  std::list<std::string> lru_;  // most recently used first
  std::int64_t hits_ = 0, misses_ = 0;
};

}  // namespace sluice::engine
