#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace sluice::console {

// A directed graph of what flows into what (raw files -> sources -> models, feature views ->
// training sets, online stores), as the console draws it.
struct GraphNode {
  std::string id;        // unique; also the DOM data attribute the page's script uses
  std::string label;     // the name shown
  std::string sublabel;  // e.g. the current version's short id
  std::string kind;      // css class: file, source, model, view, training_set, store
  std::string href;      // where a click goes; empty = not a link
  std::string status;    // a run status colouring the node ("succeeded", "failed"); optional
};

class LineageGraph {
 public:
  // Adds a node, or returns the index of the node with the same id.
  size_t AddNode(GraphNode node);
  // Adds an edge between two nodes by id; ignored when either is unknown or it exists already.
  void AddEdge(const std::string& from, const std::string& to);

  const std::vector<GraphNode>& nodes() const { return nodes_; }
  size_t edge_count() const { return edges_.size(); }

  // Column of each node: the longest path from a node without inputs (cycles, which a project
  // cannot declare, are cut). Exposed for tests.
  std::vector<int> Layers() const;

  // Inline SVG: columns left to right by layer, rows ordered to keep edges short, each node a
  // link. Every text is HTML-escaped.
  std::string RenderSvg() const;

 private:
  std::vector<GraphNode> nodes_;
  std::vector<std::pair<size_t, size_t>> edges_;
};

}  // namespace sluice::console
