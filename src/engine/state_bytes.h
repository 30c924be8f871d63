#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace sluice::engine {

// The byte codec of stored online state (docs/online.md): integers little-endian whatever the
// host (copied whole on a little-endian host, byte by byte on any other); `f64` is the IEEE-754 bit
// pattern as a little-endian u64; `str` is a u32 length then the bytes.
class StateWriter {
 public:
  void U8(std::uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U32(std::uint32_t v) { Le(v, 4); }
  void I32(std::int32_t v) { Le(static_cast<std::uint32_t>(v), 4); }
  void U64(std::uint64_t v) { Le(v, 8); }
  void I64(std::int64_t v) { Le(static_cast<std::uint64_t>(v), 8); }
  void F64(double v) {
    std::uint64_t bits;
    std::memcpy(&bits, &v, 8);
    Le(bits, 8);
  }
  void Str(std::string_view s) {
    U32(static_cast<std::uint32_t>(s.size()));
    out_.append(s);
  }
  void Bytes(std::string_view s) { out_.append(s); }
  std::string& out() { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void Le(std::uint64_t v, int bytes) {
    // A stream rewrites an entity's state on every update: a byte at a time was a sixth of it.
    if constexpr (std::endian::native == std::endian::little) {
      out_.append(reinterpret_cast<const char*>(&v), static_cast<size_t>(bytes));
    } else {
      for (int i = 0; i < bytes; ++i)
        out_.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
    }
  }
  std::string out_;
};

// Reads what StateWriter wrote. Never reads past the end: a short input turns ok() false and
// every later read returns zeros.
class StateReader {
 public:
  explicit StateReader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool done() const { return pos_ == in_.size(); }
  size_t remaining() const { return in_.size() - pos_; }
  void Fail() { ok_ = false; }
  std::uint8_t U8() { return static_cast<std::uint8_t>(Le(1)); }
  std::uint32_t U32() { return static_cast<std::uint32_t>(Le(4)); }
  std::int32_t I32() { return static_cast<std::int32_t>(static_cast<std::uint32_t>(Le(4))); }
  std::uint64_t U64() { return Le(8); }
  std::int64_t I64() { return static_cast<std::int64_t>(Le(8)); }
  double F64() {
    const std::uint64_t bits = Le(8);
    double v;
    std::memcpy(&v, &bits, 8);
    return v;
  }
  std::string Str() { return std::string(View()); }
  // Str into an existing string, which keeps its buffer.
  void StrInto(std::string& s) { s.assign(View()); }
  // A str's bytes, viewed in the input.
  std::string_view View() {
    const std::uint32_t n = U32();
    return Take(n);
  }
  std::string_view Take(size_t n) {
    if (!ok_ || n > in_.size() - pos_) {
      ok_ = false;
      return {};
    }
    const std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  // A count of items that each take at least `min_bytes`: rejects counts the input cannot hold.
  std::uint32_t Count(size_t min_bytes) {
    const std::uint32_t n = U32();
    if (!ok_ || static_cast<std::uint64_t>(n) * min_bytes > in_.size() - pos_) ok_ = false;
    return ok_ ? n : 0;
  }

 private:
  std::uint64_t Le(int bytes) {
    if (!ok_ || static_cast<size_t>(bytes) > in_.size() - pos_) {
      ok_ = false;
      return 0;
    }
    std::uint64_t v = 0;
    if constexpr (std::endian::native == std::endian::little) {
      std::memcpy(&v, in_.data() + pos_, static_cast<size_t>(bytes));
    } else {
      for (int i = 0; i < bytes; ++i)
        v |= static_cast<std::uint64_t>(static_cast<unsigned char>(in_[pos_ + i])) << (8 * i);
    }
    pos_ += static_cast<size_t>(bytes);
    return v;
  }
  std::string_view in_;
  size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace sluice::engine
