#include "store/tests/generation_value.h"

#include <charconv>

namespace sluice::store::test_support {

std::vector<std::string> GenerationEntities(int n) {
  std::vector<std::string> entities;
  for (int i = 0; i < n; ++i)
    entities.push_back(std::string("entity\0", 7) + std::to_string(i));
  return entities;
}

std::string GenerationValue(std::int64_t generation, const std::string& entity) {
  std::string v = std::to_string(generation) + ":" + entity + ":";
  const auto filler = static_cast<std::size_t>(
      (generation * 131 + static_cast<std::int64_t>(entity.size()) * 7) % 1997);
  v.append(filler, static_cast<char>('a' + generation % 26));
  return v;
}

std::int64_t ParseGenerationValue(const std::string& value, const std::string& entity) {
  std::int64_t g = -1;
  const auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), g);
  if (ec != std::errc() || ptr == value.data() + value.size() || *ptr != ':' || g < 0) return -1;
  return GenerationValue(g, entity) == value ? g : -1;
}

}  // namespace sluice::store::test_support
