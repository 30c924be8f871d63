#include "models/model_graph.h"

#include <algorithm>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "base/text_distance.h"

namespace sluice::models {
namespace {

namespace fs = std::filesystem;

void AddUnique(std::vector<std::string>& v, const std::string& s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

std::string Hint(const std::string& name, const std::vector<std::string>& candidates) {
  auto m = base::ClosestMatch(name, candidates);
  return m ? " (did you mean '" + *m + "'?)" : "";
}

std::string At(const std::string& file, warehouse::SqlPosition p) {
  return file + ":" + std::to_string(p.line) + ":" + std::to_string(p.column);
}

std::vector<std::string> ModelNames(const config::ProjectSpec& project) {
  std::set<std::string> names(project.models.files.begin(), project.models.files.end());
  for (const auto& c : project.models.configs)
    names.insert(c.name);
  return {names.begin(), names.end()};
}

}  // namespace

const Model* ModelGraph::Find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &models_[it->second];
}

base::Result<ModelGraph> ModelGraph::Load(const config::ProjectSpec& project) {
  std::map<std::string, std::string> texts;
  std::string errors;
  for (const auto& name : ModelNames(project)) {
    const fs::path path = project.dir / project.models.dir / (name + ".sql");
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      errors += (errors.empty() ? "" : "\n") +
                (fs::path(project.models.dir) / (name + ".sql")).string() +
                ": cannot read the model file";
      continue;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    texts[name] = ss.str();
  }
  if (!errors.empty()) return base::InvalidArgument(errors);
  return FromSql(project, texts);
}

base::Result<ModelGraph> ModelGraph::FromSql(const config::ProjectSpec& project,
                                             const std::map<std::string, std::string>& texts) {
  std::string errors;
  auto error = [&](const std::string& line) { errors += (errors.empty() ? "" : "\n") + line; };
  std::vector<std::string> model_names;
  for (const auto& [name, text] : texts)
    model_names.push_back(name);
  std::vector<std::string> source_names;
  for (const auto& s : project.sources)
    source_names.push_back(s.name);

  std::map<std::string, Model> parsed;
  // Where each dependency was written, for cycle messages: (from, to) -> "file:line:col".
  std::map<std::pair<std::string, std::string>, std::string> edge_at;
  for (const auto& [name, text] : texts) {
    Model m;
    m.name = name;
    m.file = (fs::path(project.models.dir) / (name + ".sql")).string();
    m.config.name = name;
    for (const auto& c : project.models.configs) {
      if (c.name == name) m.config = c;
    }
    auto t = ParseTemplate(text, m.file, /*allow_this=*/false);
    if (!t.ok()) {
      error(t.status().message());
      continue;
    }
    m.sql = std::move(t).value();
    for (const auto& ref : m.sql.refs) {
      if (IsValue(ref.kind)) continue;  // checked against the run's values when building
      const std::string where = At(m.file, ref.position);
      if (ref.kind == RefKind::kSource) {
        if (project.FindSource(ref.name) == nullptr) {
          error(where + ": model '" + name + "' reads unknown source '" + ref.name + "'" +
                Hint(ref.name, source_names));
        }
        AddUnique(m.sources, ref.name);
      } else {
        if (texts.count(ref.name) == 0) {
          error(where + ": model '" + name + "' refers to unknown model '" + ref.name + "'" +
                Hint(ref.name, model_names) +
                (project.FindSource(ref.name)
                     ? "; '" + ref.name + "' is a source: use {{ source('" + ref.name + "') }}"
                     : ""));
        } else if (ref.name == name) {
          error(where + ": model '" + name + "' refers to itself");
        }
        AddUnique(m.refs, ref.name);
        edge_at.emplace(std::make_pair(name, ref.name), where);
      }
    }
    m.depends_on = m.refs;
    for (const auto& test : m.config.tests) {
      const std::string where = test.origin.at.Where();
      if (test.type == config::ModelTestType::kRelationships && test.to) {
        if (texts.count(*test.to) != 0) {
          if (*test.to != name) {
            AddUnique(m.depends_on, *test.to);
            edge_at.emplace(std::make_pair(name, *test.to), where);
          }
        } else if (project.FindSource(*test.to) != nullptr) {
          AddUnique(m.test_sources, *test.to);
        } else {
          error(where + ": relationships test of model '" + name + "' points to '" + *test.to +
                "', which is neither a model nor a source");
        }
      }
      if (test.type == config::ModelTestType::kSql && test.sql) {
        auto ts = ParseTemplate(*test.sql, where + " (sql test of model '" + name + "')",
                                /*allow_this=*/true);
        if (!ts.ok()) {
          error(ts.status().message());
          m.test_sql.emplace_back();
          continue;
        }
        for (const auto& ref : ts->refs) {
          if (ref.kind == RefKind::kSource) {
            if (project.FindSource(ref.name) == nullptr) {
              error(where + ": sql test of model '" + name + "' reads unknown source '" + ref.name +
                    "'" + Hint(ref.name, source_names));
            }
            AddUnique(m.test_sources, ref.name);
          } else if (ref.kind == RefKind::kRef) {
            if (texts.count(ref.name) == 0) {
              error(where + ": sql test of model '" + name + "' refers to unknown model '" +
                    ref.name + "'" + Hint(ref.name, model_names));
            } else if (ref.name != name) {
              AddUnique(m.depends_on, ref.name);
              edge_at.emplace(std::make_pair(name, ref.name), where);
            }
          }
        }
        m.test_sql.push_back(std::move(ts).value());
      } else {
        m.test_sql.emplace_back();
      }
    }
    parsed.emplace(name, std::move(m));
  }
  if (!errors.empty()) return base::InvalidArgument(errors);

  // Depth-first search for cycles, reporting each once with the reference that closes it.
  std::map<std::string, int> state;  // 0 new, 1 on the stack, 2 done
  std::vector<std::string> stack;
  std::set<std::string> reported;
  std::function<void(const std::string&)> visit = [&](const std::string& n) {
    state[n] = 1;
    stack.push_back(n);
    for (const auto& d : parsed.at(n).depends_on) {
      if (state[d] == 1) {
        auto from = std::find(stack.begin(), stack.end(), d);
        std::string path;
        std::set<std::string> members;
        for (auto it = from; it != stack.end(); ++it) {
          path += *it + " -> ";
          members.insert(*it);
        }
        path += d;
        const std::string key = *members.begin() + ":" + std::to_string(members.size());
        if (reported.insert(key).second) {
          error(edge_at.at({n, d}) + ": model '" + n + "' depends on '" + d +
                "', which closes a cycle: " + path);
        }
      } else if (state[d] == 0) {
        visit(d);
      }
    }
    stack.pop_back();
    state[n] = 2;
  };
  for (const auto& [name, m] : parsed) {
    if (state[name] == 0) visit(name);
  }
  if (!errors.empty()) return base::InvalidArgument(errors);

  // Kahn's algorithm, always taking the smallest ready name, for a stable order.
  ModelGraph g;
  std::map<std::string, int> pending;
  std::map<std::string, std::vector<std::string>> dependents;
  for (const auto& [name, m] : parsed) {
    pending[name] = static_cast<int>(m.depends_on.size());
    for (const auto& d : m.depends_on)
      dependents[d].push_back(name);
  }
  std::set<std::string> ready;
  for (const auto& [name, n] : pending) {
    if (n == 0) ready.insert(name);
  }
  while (!ready.empty()) {
    const std::string next = *ready.begin();
    ready.erase(ready.begin());
    g.index_[next] = g.models_.size();
    g.models_.push_back(std::move(parsed.at(next)));
    for (const auto& d : dependents[next]) {
      if (--pending[d] == 0) ready.insert(d);
    }
  }
  return g;
}

std::vector<std::string> IntervalsPipelinesCannotGive(const ModelGraph& graph,
                                                      const config::ProjectSpec& project) {
  std::vector<std::string> out;
  for (const auto& p : project.pipelines) {
    if (p.partition) continue;
    for (const auto& s : p.steps) {
      if (s.run != config::StepKind::kBuild && s.run != config::StepKind::kTest) continue;
      auto selected = graph.Select(s.models);
      if (!selected.ok()) continue;  // unknown names are the validator's to report
      for (const auto& name : *selected) {
        const Model& m = *graph.Find(name);
        std::vector<const Template*> templates;
        if (s.run == config::StepKind::kBuild) templates.push_back(&m.sql);
        for (const auto& t : m.test_sql)
          templates.push_back(&t);
        for (const Template* t : templates) {
          for (const auto& ref : t->refs) {
            if (ref.kind != RefKind::kIntervalStart && ref.kind != RefKind::kIntervalEnd) continue;
            const std::string& key = s.origin.at.key_path;
            out.push_back(s.origin.at.Where() + ": " + (key.empty() ? "" : key + ": ") + "model '" +
                          name + "' uses " +
                          (ref.kind == RefKind::kIntervalStart ? "{{ interval_start }}"
                                                               : "{{ interval_end }}") +
                          " (" + At(t->file, ref.position) + "), but pipeline '" + p.name +
                          "' has no partition, so its runs give no interval");
          }
        }
      }
    }
  }
  return out;
}

base::Result<std::vector<std::string>> ModelGraph::Select(
    const std::vector<std::string>& selectors) const {
  std::set<std::string> chosen;
  std::vector<std::string> names;
  for (const auto& m : models_)
    names.push_back(m.name);
  std::string errors;
  for (const auto& sel : selectors) {
    const bool upstream = !sel.empty() && sel.front() == '+';
    const bool downstream = sel.size() > 1 && sel.back() == '+';
    const std::string name =
        sel.substr(upstream ? 1 : 0, sel.size() - (upstream ? 1 : 0) - (downstream ? 1 : 0));
    const Model* m = Find(name);
    if (m == nullptr) {
      errors += (errors.empty() ? "" : "\n") + std::string("no model '") + name + "'" +
                Hint(name, names) + (name.empty() ? " (selector '" + sel + "')" : "");
      continue;
    }
    chosen.insert(name);
    if (upstream) {
      std::vector<std::string> todo = m->depends_on;
      while (!todo.empty()) {
        const std::string n = todo.back();
        todo.pop_back();
        if (!chosen.insert(n).second) continue;
        const Model* d = Find(n);
        todo.insert(todo.end(), d->depends_on.begin(), d->depends_on.end());
      }
    }
    if (downstream) {
      // models() lists dependencies first, so one pass in order reaches every descendant.
      std::set<std::string> below = {name};
      for (const auto& candidate : models_) {
        for (const auto& dep : candidate.depends_on) {
          if (below.count(dep)) {
            below.insert(candidate.name);
            chosen.insert(candidate.name);
            break;
          }
        }
      }
    }
  }
  if (!errors.empty()) return base::InvalidArgument(errors);
  std::vector<std::string> out;
  for (const auto& m : models_) {
    if (selectors.empty() || chosen.count(m.name)) out.push_back(m.name);
  }
  return out;
}

}  // namespace sluice::models
