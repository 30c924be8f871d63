#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "config/project.h"
#include "engine/entity_state.h"
#include "engine/feature_plan.h"
#include "engine/keyed_replay.h"
#include "engine/transform.h"
#include "lake/lake.h"
#include "types/column.h"
#include "warehouse/duckdb_database.h"

namespace sluice::engine {

// Why a served feature has the value it has.
enum class FeatureStatus {
  kPresent,  // computed from the entity's events
  kMissing,  // no value: unknown entity, or an aggregation with no input in its window
  kExpired,  // the entity's newest event is older than the view's TTL
};
std::string_view StatusName(FeatureStatus s);

struct OnlineFeature {
  std::string name;  // the feature (for one-hot transforms: "<feature>=<category>")
  FeatureStatus status = FeatureStatus::kMissing;
  types::Column value;  // one row: the value, the declared default, or NULL
  explicit OnlineFeature(types::LogicalType type) : value(type) {}
};

// A feature view ready for online reads: the same plan as training sets and materialization,
// the fitted transforms current in the lake, and derived expressions evaluated by DuckDB.
class OnlineView {
 public:
  // Plans against the source version the store was materialized from. A `defaults:` value that
  // is not a value of its feature's type is an InvalidArgument naming the view and feature.
  static base::Result<std::unique_ptr<OnlineView>> Load(const config::ProjectSpec& project,
                                                        const config::FeatureViewSpec& view,
                                                        const lake::Lake& lake,
                                                        const std::string& source_version,
                                                        warehouse::DuckDb& db);

  // Not copyable: a copy would share id_, and so the per-thread evaluator bound to this plan.
  OnlineView(const OnlineView&) = delete;
  OnlineView& operator=(const OnlineView&) = delete;

  const FeatureViewPlan& plan() const { return plan_; }
  const std::string& name() const { return spec_.name; }
  // Aggregations then derived features.
  const std::vector<std::string>& FeatureNames() const { return feature_names_; }
  bool HasFeature(std::string_view name) const;
  // "<definition hash prefix>" or, transformed, "<definition>+<artifact prefix>".
  std::string FeatureVersion(std::string_view feature) const;

  // Features `names` (empty = all) for one entity as of t (microseconds). `state` is the
  // stored state (its head), nullopt for an entity the store does not know; `parts` reads the
  // parts of `entity` (its key bytes) that a window edge needs (store::OnlineStore::
  // MultiGetParts). t must not be before the entity's newest event (online reads are "now").
  base::Result<std::vector<OnlineFeature>> Read(std::optional<std::string_view> state,
                                                std::int64_t t,
                                                const std::vector<std::string>& names,
                                                warehouse::DuckDb& db, std::string_view entity = {},
                                                const PartLookup& parts = {}) const;

 private:
  OnlineView(config::FeatureViewSpec spec, FeatureViewPlan plan,
             std::vector<std::pair<std::string, TransformArtifact>> transforms,
             std::map<std::string, types::Column> defaults)
      : spec_(std::move(spec)),
        plan_(std::move(plan)),
        transforms_(std::move(transforms)),
        defaults_(std::move(defaults)),
        id_(NextId()) {
    for (const auto& a : plan_.aggregations)
      feature_names_.push_back(a.name);
    for (const auto& d : spec_.derived)
      feature_names_.push_back(d.name);
  }

  // The value a missing or expired feature reads as: its `defaults:` entry, or NULL.
  base::Result<types::Column> DefaultValue(const std::string& name, types::LogicalType type) const;

  config::FeatureViewSpec spec_;
  FeatureViewPlan plan_;
  std::vector<std::pair<std::string, TransformArtifact>> transforms_;  // feature -> artifact
  // The `defaults:` parsed once, as a value of the served feature's type, checked at Load.
  std::map<std::string, types::Column> defaults_;
  // Computed once: Read checks every requested name against it, per entity.
  std::vector<std::string> feature_names_;
  // Unique per OnlineView ever built in the process, unlike its address: names this view's
  // per-thread StateEvaluator (online_view.cpp).
  static std::uint64_t NextId();
  std::uint64_t id_;
};

}  // namespace sluice::engine
