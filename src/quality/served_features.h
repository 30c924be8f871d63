#pragma once

#include "base/status.h"
#include "lake/lake.h"
#include "quality/drift.h"

namespace sluice::quality {

// The features a serving log recorded (`sluice serve`'s monitoring.serving_log; its `features`
// column is JSON), as typed columns named as training sets name them, "<view>__<feature>", so a
// training set can be the drift reference for what was served to its model
// (docs/monitoring.md#drift-of-served-features). A feature is numeric (DOUBLE) when any served
// value of it is a JSON number, else bool when any is a JSON bool, else text; values a row's
// view did not serve, missing and expired ones are NULL. Time ranges of a serving log select by
// `served_at`.
//
// When `side` is a serving log version, sets its rows_sql (one row per logged (request, view,
// entity): the feature columns and served_at) and replaces its schema by the feature columns
// (found by one scan of the log's keys); other datasets are left alone.
base::Status ExpandServingLog(const lake::Lake& lake, DriftSide& side);

// The time column of a serving log ("served_at").
inline constexpr const char* kServingLogTimeColumn = "served_at";
inline constexpr const char* kServingLogKind = "serving_log";

}  // namespace sluice::quality
