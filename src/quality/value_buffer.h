#pragma once

#include <cstddef>
#include <cstdint>

namespace sluice::quality {

// Memory for millions of values: allocated uninitialized in 2 MiB-aligned blocks that the kernel
// may back with huge pages (fewer page faults and TLB misses while sorting, but with THP's
// defrag on madvise the kernel may compact memory to find them, which costs more than it saves
// where the values are touched only a few times). Grows, never shrinks; contents are not kept
// when it grows.
class ValueBuffer {
 public:
  ValueBuffer() = default;
  ValueBuffer(ValueBuffer&& other) noexcept;
  ValueBuffer& operator=(ValueBuffer&& other) noexcept;
  ValueBuffer(const ValueBuffer&) = delete;
  ValueBuffer& operator=(const ValueBuffer&) = delete;
  ~ValueBuffer();

  // Makes room for `n` 8-byte values; may discard the contents.
  void Reserve(size_t n);
  // Makes room for `n` values keeping the first `keep` (n >= keep).
  void Grow(size_t n, size_t keep);
  size_t capacity() const { return capacity_; }
  // Whether blocks allocated from now on are advised as huge pages (the default).
  void AdviseHugePages(bool on) { huge_pages_ = on; }
  std::uint64_t* words() { return static_cast<std::uint64_t*>(block_); }
  double* doubles() { return static_cast<double*>(block_); }
  const double* doubles() const { return static_cast<const double*>(block_); }

 private:
  void* block_ = nullptr;
  size_t capacity_ = 0;  // in 8-byte values
  bool huge_pages_ = true;
};

}  // namespace sluice::quality
