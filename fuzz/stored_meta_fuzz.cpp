// What a stream and a server read back from the online store beside the states: a view's meta
// (which definition and lake version the states hold) and the stream cursors (where to resume).
// A damaged or foreign value must be refused naming the key, never crash; whatever is accepted
// must encode to bytes that decode to the same value, or a restart could resume elsewhere.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "engine/stream_cursor.h"
#include "store/key_layout.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto meta = sluice::store::DecodeViewMeta(bytes, "meta key");
  if (meta.ok()) {
    const std::string encoded = sluice::store::EncodeViewMeta(*meta);
    auto again = sluice::store::DecodeViewMeta(encoded, "meta key");
    if (!again.ok() || sluice::store::EncodeViewMeta(*again) != encoded) __builtin_trap();
  } else if (meta.status().message().find("meta key") == std::string::npos) {
    __builtin_trap();  // the error names the key it came from
  }
  auto cursor = sluice::engine::DecodeStreamCursor(bytes, "cursor key");
  if (cursor.ok()) {
    const std::string encoded = sluice::engine::EncodeStreamCursor(*cursor);
    auto again = sluice::engine::DecodeStreamCursor(encoded, "cursor key");
    if (!again.ok() || !(*again == *cursor)) __builtin_trap();
    if (sluice::engine::EncodeStreamCursor(*again) != encoded) __builtin_trap();
  } else if (cursor.status().message().find("cursor key") == std::string::npos) {
    __builtin_trap();
  }
  return 0;
}
