#include "engine/entity_state_cache.h"

#include <utility>

namespace sluice::engine {

EntityState* EntityStateCache::Find(const std::string& entity) {
  if (max_bytes_ == 0) return nullptr;
  auto it = entries_.find(entity);
  if (it == entries_.end()) {
    ++misses_;
    return nullptr;
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return &it->second.state;
}

void EntityStateCache::Stored(const std::string& entity, std::size_t encoded_bytes) {
  auto it = entries_.find(entity);
  if (it == entries_.end()) return;
  bytes_ = bytes_ - it->second.bytes + encoded_bytes;
  it->second.bytes = encoded_bytes;
}

void EntityStateCache::Put(const std::string& entity, EntityState&& state,
                           std::size_t encoded_bytes) {
  if (encoded_bytes > max_bytes_) {
    auto old = entries_.find(entity);
    if (old != entries_.end()) {
      bytes_ -= old->second.bytes;
      lru_.erase(old->second.lru);
      entries_.erase(old);
    }
    return;
  }
  auto [it, inserted] = entries_.try_emplace(entity);
  if (inserted) {
    lru_.push_front(entity);
    it->second.lru = lru_.begin();
  } else {
    bytes_ -= it->second.bytes;
    lru_.splice(lru_.begin(), lru_, it->second.lru);
  }
  it->second.state = std::move(state);
  it->second.bytes = encoded_bytes;
  bytes_ += encoded_bytes;
}

void EntityStateCache::Clear() {
  entries_.clear();
  lru_.clear();
  bytes_ = 0;
}

void EntityStateCache::EndBatch() {
  while (bytes_ > max_bytes_ && !lru_.empty()) {
    auto it = entries_.find(lru_.back());
    bytes_ -= it->second.bytes;
    entries_.erase(it);
    lru_.pop_back();
  }
}

}  // namespace sluice::engine
