#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "base/result.h"
#include "config/project.h"
#include "models/template.h"

namespace sluice::models {

// One SQL model: models/<name>.sql plus its settings from `models.configs`.
struct Model {
  std::string name;
  std::string file;  // as shown to people: "models/daily_spend.sql" (relative to the project)
  Template sql;
  config::ModelConfigSpec config;         // defaults (a view, no tests) when none is declared
  std::vector<std::string> refs;          // models it reads, in first-use order, no repeats
  std::vector<std::string> sources;       // sources its SQL reads, in first-use order, no repeats
  std::vector<std::string> test_sources;  // sources only its tests read (relationships, sql)
  std::vector<std::string> depends_on;    // refs plus models its relationships tests point to
  std::vector<Template> test_sql;         // parsed `sql` of its tests of type sql, in test order
};

// The models of a project and the dependency graph their references make.
class ModelGraph {
 public:
  // Reads and parses every model file; checks every source(), ref() and test reference against
  // the project and rejects cycles. All problems are reported together in one InvalidArgument,
  // one per line, each as "<file>:<line>:<column>: ...".
  static base::Result<ModelGraph> Load(const config::ProjectSpec& project);
  // The same from in-memory SQL texts (name -> SQL), for tests; files are "models/<name>.sql".
  static base::Result<ModelGraph> FromSql(const config::ProjectSpec& project,
                                          const std::map<std::string, std::string>& sql);

  // Every model, dependencies before dependents (ties broken by name).
  const std::vector<Model>& models() const { return models_; }
  const Model* Find(const std::string& name) const;
  // Position of the model in models().
  std::size_t IndexOf(const std::string& name) const { return index_.at(name); }

  // The models named by `selectors`, in models() order: "name" is the model, "+name" the model
  // and every model upstream of it, "name+" the model and every model downstream of it,
  // "+name+" both. Empty selects every model. An unknown name is InvalidArgument with a "did
  // you mean" hint.
  base::Result<std::vector<std::string>> Select(const std::vector<std::string>& selectors) const;

 private:
  std::vector<Model> models_;
  std::map<std::string, std::size_t> index_;
};

// For `sluice check`: every use of {{ interval_start }} / {{ interval_end }} in a model that a
// `build` or `test` step of a pipeline without `partition` selects (its runs have no interval to
// give, so the step would always fail), one line each: "sluice.yaml:30:9:
// pipelines[0].steps[1]: model 'x' uses {{ interval_start }} (models/x.sql:3:13), but pipeline
// 'p' has no partition, so its runs give no interval".
std::vector<std::string> IntervalsPipelinesCannotGive(const ModelGraph& graph,
                                                      const config::ProjectSpec& project);

}  // namespace sluice::models
