#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "lake/lake.h"
#include "lake/manifest.h"

namespace sluice::orchestrate {

// Every dataset version `version` was derived from, itself included, read from the manifests'
// parents in the lake: what a model trained on that version needs to be rebuilt exactly. Inputs
// before outputs (sources first, `version` last); each version once.
base::Result<std::vector<lake::Manifest>> DataBehind(const lake::Lake& lake,
                                                     const std::string& version);

}  // namespace sluice::orchestrate
