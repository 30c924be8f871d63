#include "console/lineage_graph.h"

#include <algorithm>
#include <cstdio>
#include <map>

#include "console/html_text.h"

namespace sluice::console {

namespace {
constexpr int kColumnWidth = 230;
constexpr int kNodeWidth = 180;
constexpr int kNodeHeight = 44;
constexpr int kRowHeight = 62;
constexpr int kMargin = 16;

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f", v);
  return buf;
}

// Long names are cut so they stay inside the box; the full name is in the <title> tooltip.
std::string Fit(const std::string& s, size_t max) {
  if (s.size() <= max) return s;
  return s.substr(0, max - 1) + "\u2026";
}
}  // namespace

size_t LineageGraph::AddNode(GraphNode node) {
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].id == node.id) return i;
  }
  nodes_.push_back(std::move(node));
  return nodes_.size() - 1;
}

void LineageGraph::AddEdge(const std::string& from, const std::string& to) {
  size_t f = nodes_.size();
  size_t t = nodes_.size();
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].id == from) f = i;
    if (nodes_[i].id == to) t = i;
  }
  if (f == nodes_.size() || t == nodes_.size() || f == t) return;
  const auto e = std::make_pair(f, t);
  if (std::find(edges_.begin(), edges_.end(), e) == edges_.end()) edges_.push_back(e);
}

std::vector<int> LineageGraph::Layers() const {
  std::vector<int> layer(nodes_.size(), 0);
  // Longest-path layering by relaxation; at most n rounds, so a cycle cannot loop forever.
  for (size_t round = 0; round < nodes_.size(); ++round) {
    bool changed = false;
    for (const auto& [f, t] : edges_) {
      if (layer[t] < layer[f] + 1 && layer[f] + 1 < static_cast<int>(nodes_.size())) {
        layer[t] = layer[f] + 1;
        changed = true;
      }
    }
    if (!changed) break;
  }
  return layer;
}

std::string LineageGraph::RenderSvg() const {
  const std::vector<int> layer = Layers();
  const int columns = nodes_.empty() ? 1 : *std::max_element(layer.begin(), layer.end()) + 1;
  std::vector<std::vector<size_t>> column(columns);
  for (size_t i = 0; i < nodes_.size(); ++i)
    column[layer[i]].push_back(i);
  // One barycenter pass left to right: a node sits near the mean row of its inputs.
  std::vector<double> row(nodes_.size(), 0);
  for (int c = 0; c < columns; ++c) {
    if (c > 0) {
      std::map<size_t, std::pair<double, int>> sum;
      for (const auto& [f, t] : edges_) {
        if (layer[t] == c && layer[f] < c) {
          sum[t].first += row[f];
          sum[t].second += 1;
        }
      }
      std::stable_sort(column[c].begin(), column[c].end(), [&](size_t a, size_t b) {
        const double ka = sum.count(a) ? sum[a].first / sum[a].second : 1e9;
        const double kb = sum.count(b) ? sum[b].first / sum[b].second : 1e9;
        return ka < kb;
      });
    }
    for (size_t r = 0; r < column[c].size(); ++r)
      row[column[c][r]] = static_cast<double>(r);
  }
  size_t rows = 1;
  for (const auto& c : column)
    rows = std::max(rows, c.size());
  const int width = kMargin * 2 + (columns - 1) * kColumnWidth + kNodeWidth;
  const int height = kMargin * 2 + static_cast<int>(rows - 1) * kRowHeight + kNodeHeight;
  auto x_of = [&](size_t i) { return kMargin + layer[i] * kColumnWidth; };
  auto y_of = [&](size_t i) {
    // Columns with fewer nodes are centred vertically.
    const double offset =
        (static_cast<double>(rows) - static_cast<double>(column[layer[i]].size())) / 2.0;
    return kMargin + (row[i] + offset) * kRowHeight;
  };

  std::string svg = "<svg class=\"lineage\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                    std::to_string(width) + "\" height=\"" + std::to_string(height) +
                    "\" viewBox=\"0 0 " + std::to_string(width) + " " + std::to_string(height) +
                    "\" role=\"img\" aria-label=\"lineage graph\">\n";
  svg +=
      "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" "
      "markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\"/>"
      "</marker></defs>\n";
  for (const auto& [f, t] : edges_) {
    const double x1 = x_of(f) + kNodeWidth;
    const double y1 = y_of(f) + kNodeHeight / 2.0;
    const double x2 = x_of(t);
    const double y2 = y_of(t) + kNodeHeight / 2.0;
    const double mid = (x1 + x2) / 2;
    svg += "<path class=\"edge\" data-from=\"" + EscapeHtml(nodes_[f].id) + "\" data-to=\"" +
           EscapeHtml(nodes_[t].id) + "\" d=\"M " + Number(x1) + " " + Number(y1) + " C " +
           Number(mid) + " " + Number(y1) + ", " + Number(mid) + " " + Number(y2) + ", " +
           Number(x2) + " " + Number(y2) + "\" marker-end=\"url(#arrow)\"/>\n";
  }
  for (size_t i = 0; i < nodes_.size(); ++i) {
    const auto& n = nodes_[i];
    const std::string x = std::to_string(x_of(i));
    const std::string y = Number(y_of(i));
    std::string g = "<g class=\"node kind-" + EscapeHtml(n.kind) +
                    (n.status.empty() ? "" : " status-" + EscapeHtml(n.status)) +
                    "\" data-node=\"" + EscapeHtml(n.id) + "\"><title>" +
                    EscapeHtml(n.kind + " " + n.label) +
                    (n.sublabel.empty() ? "" : " " + EscapeHtml(n.sublabel)) + "</title>";
    g += "<rect x=\"" + x + "\" y=\"" + y + "\" width=\"" + std::to_string(kNodeWidth) +
         "\" height=\"" + std::to_string(kNodeHeight) + "\" rx=\"6\"/>";
    g += "<text x=\"" + std::to_string(x_of(i) + 10) + "\" y=\"" + Number(y_of(i) + 19) +
         "\" class=\"label\">" + EscapeHtml(Fit(n.label, 24)) + "</text>";
    g += "<text x=\"" + std::to_string(x_of(i) + 10) + "\" y=\"" + Number(y_of(i) + 35) +
         "\" class=\"sublabel\">" +
         EscapeHtml(Fit(n.kind + (n.sublabel.empty() ? "" : " \u00b7 ") + n.sublabel +
                            (n.status.empty() ? "" : " " + n.status),
                        34)) +
         "</text></g>";
    if (!n.href.empty()) g = "<a href=\"" + EscapeHtml(n.href) + "\">" + g + "</a>";
    svg += g + "\n";
  }
  svg += "</svg>\n";
  return svg;
}

}  // namespace sluice::console
