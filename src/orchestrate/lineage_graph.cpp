#include "orchestrate/lineage_graph.h"

#include <deque>

#include "base/json_text.h"

namespace sluice::orchestrate {

base::Result<LineageGraph> WalkLineage(
    const std::string& root, LineageDirection direction, int depth,
    const std::function<base::Result<std::vector<registry::LineageEdge>>(const std::string&)>&
        edges_of) {
  LineageGraph g;
  g.root = root;
  for (const bool up : {true, false}) {
    if (up && direction == LineageDirection::kDownstream) continue;
    if (!up && direction == LineageDirection::kUpstream) continue;
    std::set<std::string> seen = {root};
    std::deque<std::pair<std::string, int>> todo = {{root, 0}};
    while (!todo.empty()) {
      auto [node, d] = todo.front();
      todo.pop_front();
      if (d >= depth) continue;
      SLUICE_ASSIGN_OR_RETURN(auto edges, edges_of(node));
      for (const auto& e : edges) {
        if (e.from == e.to) continue;
        const bool into = e.to == node;  // e.from is a parent of node
        if (up != into) continue;
        const std::string& next = up ? e.from : e.to;
        if (up) {
          g.parents[node].insert(next);
          g.children[next].insert(node);
        } else {
          g.children[node].insert(next);
          g.parents[next].insert(node);
        }
        if (seen.insert(next).second) todo.push_back({next, d + 1});
      }
    }
  }
  return g;
}

namespace {

void Tree(const std::map<std::string, std::set<std::string>>& next, const std::string& node,
          const char* arrow, int indent, std::set<std::string>& printed,
          std::set<std::string>& path, const std::function<std::string(const std::string&)>& label,
          std::string& out) {
  auto it = next.find(node);
  if (it == next.end()) return;
  for (const auto& n : it->second) {
    out += std::string(static_cast<size_t>(indent) * 2, ' ') + arrow + " " + label(n);
    if (path.count(n) || !printed.insert(n).second) {
      out += " (see above)\n";
      continue;
    }
    out += "\n";
    path.insert(n);
    Tree(next, n, arrow, indent + 1, printed, path, label, out);
    path.erase(n);
  }
}

}  // namespace

std::string LineageText(const LineageGraph& g, LineageDirection direction,
                        const std::function<std::string(const std::string&)>& label) {
  std::string out = label(g.root) + "\n";
  if (direction != LineageDirection::kDownstream) {
    std::set<std::string> printed, path = {g.root};
    out += "upstream:\n";
    if (!g.parents.count(g.root)) out += "  (nothing recorded)\n";
    Tree(g.parents, g.root, "<-", 1, printed, path, label, out);
  }
  if (direction != LineageDirection::kUpstream) {
    std::set<std::string> printed, path = {g.root};
    out += "downstream:\n";
    if (!g.children.count(g.root)) out += "  (nothing recorded)\n";
    Tree(g.children, g.root, "->", 1, printed, path, label, out);
  }
  return out;
}

std::string LineageDot(const LineageGraph& g,
                       const std::function<std::string(const std::string&)>& label) {
  std::set<std::string> nodes = {g.root};
  for (const auto& [n, ps] : g.parents) {
    nodes.insert(n);
    nodes.insert(ps.begin(), ps.end());
  }
  std::string out = "digraph lineage {\n  rankdir=LR;\n  node [shape=box];\n";
  for (const auto& n : nodes) {
    out += "  " + base::JsonQuoted(n) + " [label=" + base::JsonQuoted(label(n)) +
           (n == g.root ? ", style=bold" : "") + "];\n";
  }
  for (const auto& [n, ps] : g.parents) {
    for (const auto& p : ps)
      out += "  " + base::JsonQuoted(p) + " -> " + base::JsonQuoted(n) + ";\n";
  }
  return out + "}\n";
}

}  // namespace sluice::orchestrate
