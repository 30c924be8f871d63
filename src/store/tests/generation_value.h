#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sluice::store::test_support {

// Values for atomicity tests: every batch writes all entities with one generation number.

// `n` entity keys, each with a NUL byte inside.
std::vector<std::string> GenerationEntities(int n);
// The value a batch of generation `generation` stores for `entity`: the generation, the entity
// and a filler (0 to ~2 KB) whose length depends on both, so a torn or misplaced value cannot
// verify, and a batch is large enough to cross the server's socket reads.
std::string GenerationValue(std::int64_t generation, const std::string& entity);
// The generation in `value`, or -1 if `value` is not GenerationValue(g, entity) for some g.
std::int64_t ParseGenerationValue(const std::string& value, const std::string& entity);

}  // namespace sluice::store::test_support
