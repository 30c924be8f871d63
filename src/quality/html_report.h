#pragma once

#include <filesystem>
#include <string>

#include "base/status.h"
#include "quality/drift.h"
#include "quality/profile.h"

namespace sluice::quality {

// One self-contained HTML page (no scripts, fonts or styles fetched from anywhere): the drift
// table, then per compared column the reference and current distributions overlaid as an inline
// SVG histogram (shares of each side's values, so different sizes compare). Every column has a
// table row <tr data-column="NAME">.
std::string DriftHtml(const DriftReport& report);

// The same for a profile: the per-column table and each numeric column's histogram (or a text
// column's top values) as inline SVG; rows <tr data-column="NAME">.
std::string ProfileHtml(const Profile& profile);

// Writes `html` to `path` atomically: a temporary file beside it, fsync, rename.
base::Status WriteHtmlReport(const std::filesystem::path& path, const std::string& html);

}  // namespace sluice::quality
