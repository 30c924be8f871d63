#include "console/lineage_graph.h"

#include <gtest/gtest.h>

namespace sluice::console {
namespace {

TEST(LineageGraph, LayersAreLongestPathsFromInputs) {
  LineageGraph g;
  for (const char* id : {"file", "source", "model", "view", "training_set"})
    g.AddNode({id, id, "", "x", "", ""});
  g.AddEdge("file", "source");
  g.AddEdge("source", "model");
  g.AddEdge("source", "view");
  g.AddEdge("model", "training_set");
  g.AddEdge("view", "training_set");
  g.AddEdge("source", "training_set");  // a shortcut does not pull it left
  EXPECT_EQ(g.Layers(), (std::vector<int>{0, 1, 2, 2, 3}));
}

TEST(LineageGraph, IgnoresUnknownSelfAndDuplicateEdges) {
  LineageGraph g;
  EXPECT_EQ(g.AddNode({"a", "a", "", "x", "", ""}), 0U);
  EXPECT_EQ(g.AddNode({"b", "b", "", "x", "", ""}), 1U);
  EXPECT_EQ(g.AddNode({"a", "other", "", "x", "", ""}), 0U);  // same id, same node
  g.AddEdge("a", "b");
  g.AddEdge("a", "b");
  g.AddEdge("a", "a");
  g.AddEdge("a", "missing");
  EXPECT_EQ(g.edge_count(), 1U);
  EXPECT_EQ(g.nodes().size(), 2U);
}

TEST(LineageGraph, ACycleEndsLayering) {
  LineageGraph g;
  g.AddNode({"a", "a", "", "x", "", ""});
  g.AddNode({"b", "b", "", "x", "", ""});
  g.AddEdge("a", "b");
  g.AddEdge("b", "a");
  const auto layers = g.Layers();  // terminates; every layer stays inside the graph
  for (int l : layers)
    EXPECT_LT(l, 2);
}

TEST(LineageGraph, SvgEscapesEveryTextAndLinksNodes) {
  LineageGraph g;
  g.AddNode({"file:<x>", "<img src=x onerror=alert(1)>", "v\"1", "file", "", ""});
  g.AddNode({"source:s", "s", "abc", "source", "/datasets/s?a=1&b=2", "failed"});
  g.AddEdge("file:<x>", "source:s");
  const std::string svg = g.RenderSvg();
  EXPECT_EQ(svg.find("<img"), std::string::npos);
  EXPECT_NE(svg.find("&lt;img"), std::string::npos);
  EXPECT_NE(svg.find("data-node=\"file:&lt;x&gt;\""), std::string::npos);
  EXPECT_NE(svg.find("<a href=\"/datasets/s?a=1&amp;b=2\">"), std::string::npos);
  EXPECT_NE(svg.find("status-failed"), std::string::npos);
  EXPECT_NE(svg.find("class=\"edge\" data-from=\"file:&lt;x&gt;\" data-to=\"source:s\""),
            std::string::npos);
}

}  // namespace
}  // namespace sluice::console
