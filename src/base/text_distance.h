#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::base {

// Levenshtein edit distance (insert, delete, substitute; each costs 1).
size_t EditDistance(std::string_view a, std::string_view b);

// The candidate closest to `word`, if it is close enough to be a plausible typo: at most a third
// of the longer word's length in edits (at least 1, at most 3). Powers "did you mean" hints.
std::optional<std::string> ClosestMatch(std::string_view word,
                                        const std::vector<std::string>& candidates);

}  // namespace sluice::base
