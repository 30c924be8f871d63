#pragma once

#include <vector>

#include "config/diagnostic.h"
#include "config/project.h"
#include "config/yaml_document.h"

namespace sluice::config {

// sluice.yaml may set everything; an included file only the list sections and models.
enum class FileRole { kMain, kIncluded };

// Reads one parsed project file into a partial spec: every key, its type and where it was
// written. Reports unknown keys, wrong types, missing keys and unparsable values; cross-element
// checks are ValidateProject's. Keys set are recorded in the result's origin.fields.
ProjectSpec ReadProjectFile(const YamlDocument& doc, FileRole role,
                            std::vector<Diagnostic>* diagnostics);

}  // namespace sluice::config
