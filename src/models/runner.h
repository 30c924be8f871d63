#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "config/project.h"
#include "lake/lake.h"
#include "models/model_graph.h"
#include "models/model_tests.h"
#include "registry/registry.h"
#include "warehouse/warehouse.h"

// Building and testing SQL models in the warehouse (`sluice build`, `sluice test`).
namespace sluice::models {

struct ModelsContext {
  const config::ProjectSpec& project;
  lake::Lake& lake;
  registry::Registry& registry;  // used from the calling thread only
  base::Clock& clock;            // "now" of runs and of freshness tests
  warehouse::Warehouse& warehouse;
};

enum class ModelStatus {
  kBuilt,      // the relation was (re)built and its tests passed
  kUnchanged,  // inputs and definition as at the last successful build: nothing was done
  kFailed,     // the SQL or a test failed; the warehouse and the lake are as they were
  kSkipped,    // an upstream model failed
};

std::string_view Name(ModelStatus status);

struct ModelOutcome {
  std::string model;
  std::string file;  // "models/daily_spend.sql"
  config::Materialization materialized = config::Materialization::kView;
  ModelStatus status = ModelStatus::kFailed;
  // Tables and incremental models: the lake dataset version holding the rows. Views: the hash of
  // their definition and input versions (views hold no rows, so they are not in the lake).
  std::string version;
  bool new_version = false;    // a new lake version was published by this run
  std::int64_t rows = 0;       // rows in the table after the build
  std::int64_t new_rows = -1;  // incremental: rows added or merged by this run; -1: full build
  std::vector<std::string> parents;  // input dataset versions (sources, upstream tables)
  std::string previous_version;      // incremental: the version this run extended
  std::vector<TestOutcome> tests;
  // Why it failed: "models/x.sql:5:3: model 'x': <warehouse message>" plus the line and a caret
  // when the warehouse said where; or which tests failed.
  std::string error;
  std::string upstream;  // kSkipped: the failed model that stopped it
  double seconds = 0;
  // Where the time went, for a built model: planning and the unchanged check, the warehouse
  // statement (CREATE ... AS or the incremental insert/merge), tests, Parquet export, commit, and
  // hashing + storing + publishing in the lake.
  struct Phases {
    double plan = 0, materialize = 0, tests = 0, export_parquet = 0, commit = 0, publish = 0;
  } phases;
  std::int64_t run_id = 0;
};

struct BuildOptions {
  std::vector<std::string> selectors;  // "name" or "+name" (with upstream); empty: every model
  int jobs = 0;                        // models built at once; 0: one per core, at most 4
  bool full_refresh = false;           // rebuild everything; incremental models from scratch
  // {{ interval_start }}, {{ interval_end }} and {{ var('k') }} of the models' SQL and tests. A
  // selected model using one that is missing fails the whole build before anything runs.
  TemplateValues values;
  // Called on the calling thread as each model finishes, in completion order.
  std::function<void(const ModelOutcome&)> on_done;
};

struct BuildReport {
  std::vector<ModelOutcome> models;  // completion order
  int Count(ModelStatus status) const;
  bool ok() const { return Count(ModelStatus::kFailed) + Count(ModelStatus::kSkipped) == 0; }
};

// Builds the selected models in dependency order, several at once where the graph allows (each
// on its own warehouse session). A model is skipped when its inputs and definition are those of
// its last successful build. Otherwise, in one warehouse transaction: the relation is replaced
// (a table, a view) or extended (incremental: rows whose cursor is above the table's maximum,
// appended or merged on unique_key), the model's tests run, and a table's rows are exported to
// Parquet; a failing test rolls everything back and skips the models downstream. Tables are then
// published to the lake as dataset versions (kind "model", parents = input versions,
// definition_hash = hash of the SQL and config), and every model's run and lineage go to the
// registry.
//
// Errors (not per-model failures, which are in the report): a selector naming no model, a source
// with no version in the lake, an upstream model outside the selection that was never built.
base::Result<BuildReport> BuildModels(const ModelGraph& graph, const ModelsContext& context,
                                      const BuildOptions& options);

// Runs the tests of the selected models against their relations as they are in the warehouse.
// A model that was never built fails with a message saying so.
base::Result<BuildReport> TestModels(const ModelGraph& graph, const ModelsContext& context,
                                     const std::vector<std::string>& selectors,
                                     const std::function<void(const ModelOutcome&)>& on_done,
                                     const TemplateValues& values = {});

// The relation a source's dataset version is exposed as in the warehouse:
// "sluice_src_<source>_<first 12 hex digits of the version id>".
std::string SourceRelationName(const lake::Manifest& source_version);
// What every version's relation name of source `dataset` starts with.
std::string SourceRelationPrefix(const std::string& dataset);

// The hash a model's lake versions carry as definition_hash: its SQL text, materialization,
// unique_key and cursor, and the definitions of the views it reads through. For tables and views
// also the values of {{ interval_start }}, {{ var('k') }}... they use, so a version built for one
// interval is never taken for another's. Not for incremental models: their table accumulates
// across intervals, and a different value must extend it, not rebuild it (they are never
// skipped as unchanged when they use values).
std::string DefinitionHash(const ModelGraph& graph, const Model& model,
                           const TemplateValues& values = {});
// Whether the model's SQL, or that of a view it reads through, uses a run value.
bool UsesValues(const ModelGraph& graph, const Model& model);

}  // namespace sluice::models
