#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "base/result.h"
#include "registry/registry.h"

namespace sluice::orchestrate {

enum class LineageDirection { kUpstream, kDownstream, kBoth };

// The part of the lineage graph reachable from one node.
struct LineageGraph {
  std::string root;
  std::map<std::string, std::set<std::string>> parents;   // node -> what it was derived from
  std::map<std::string, std::set<std::string>> children;  // node -> what was derived from it
};

// Follows edges from `root` up to `depth` steps, upstream and/or downstream (never both ways
// from one node, so siblings do not leak in). `edges_of(node)` returns the edges into and out of
// a node (Registry::Lineage).
base::Result<LineageGraph> WalkLineage(
    const std::string& root, LineageDirection direction, int depth,
    const std::function<base::Result<std::vector<registry::LineageEdge>>(const std::string&)>&
        edges_of);

// Indented trees ("<- parent" upstream, "-> child" downstream), each node named by `label`. A
// node reached twice is printed once, then referred to with "(see above)".
std::string LineageText(const LineageGraph& g, LineageDirection direction,
                        const std::function<std::string(const std::string&)>& label);
// A Graphviz digraph, edges pointing from input to output.
std::string LineageDot(const LineageGraph& g,
                       const std::function<std::string(const std::string&)>& label);

}  // namespace sluice::orchestrate
