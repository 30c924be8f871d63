#include "quality/value_buffer.h"

#include <cstdlib>
#include <cstring>
#include <utility>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace sluice::quality {
namespace {

constexpr size_t kBlock = size_t{2} << 20;  // a huge page

}  // namespace

ValueBuffer::ValueBuffer(ValueBuffer&& other) noexcept
    : block_(std::exchange(other.block_, nullptr)),
      capacity_(std::exchange(other.capacity_, 0)),
      huge_pages_(other.huge_pages_) {}

ValueBuffer& ValueBuffer::operator=(ValueBuffer&& other) noexcept {
  if (this != &other) {
    std::free(block_);
    block_ = std::exchange(other.block_, nullptr);
    capacity_ = std::exchange(other.capacity_, 0);
    huge_pages_ = other.huge_pages_;
  }
  return *this;
}

ValueBuffer::~ValueBuffer() {
  std::free(block_);
}

void ValueBuffer::Reserve(size_t n) {
  Grow(n, 0);
}

void ValueBuffer::Grow(size_t n, size_t keep) {
  if (n <= capacity_) return;
  const size_t bytes = (n * sizeof(std::uint64_t) + kBlock - 1) / kBlock * kBlock;
  void* block = std::aligned_alloc(kBlock, bytes);
  if (block == nullptr) std::abort();  // as operator new would throw: out of memory
#if defined(MADV_HUGEPAGE)
  // Advice only: without transparent huge pages the buffer works the same, with 4 KiB faults.
  if (huge_pages_) madvise(block, bytes, MADV_HUGEPAGE);
#endif
  if (keep > 0) std::memcpy(block, block_, keep * sizeof(std::uint64_t));
  std::free(block_);
  block_ = block;
  capacity_ = bytes / sizeof(std::uint64_t);
}

}  // namespace sluice::quality
