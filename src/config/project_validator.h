#pragma once

#include <vector>

#include "config/diagnostic.h"
#include "config/project.h"

namespace sluice::config {

// Checks a merged spec without any I/O: names, duplicates, per-type required and inapplicable
// keys, value ranges, every cross-reference, and cycles among pipeline steps. Appends one
// Diagnostic per problem, located with the elements' Origins.
void ValidateProject(const ProjectSpec& spec, std::vector<Diagnostic>* diagnostics);

// True if `name` matches [a-z_][a-z0-9_]*, the rule for every name in a project.
bool IsValidName(std::string_view name);

}  // namespace sluice::config
