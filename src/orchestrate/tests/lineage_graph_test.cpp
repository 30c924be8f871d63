#include "orchestrate/lineage_graph.h"

#include <gtest/gtest.h>

namespace sluice::orchestrate {
namespace {

// file -> src -> model -> ts -> model:m ; src -> other_model (a sibling branch)
const std::vector<registry::LineageEdge> kEdges = {
    {"file:a.csv@1", "src", 1}, {"src", "model", 2},       {"model", "ts", 3},
    {"ts", "model:m@1", 4},     {"src", "other_model", 5}, {"file:b.csv@2", "other_model", 6},
};

base::Result<std::vector<registry::LineageEdge>> EdgesOf(const std::string& node) {
  std::vector<registry::LineageEdge> out;
  for (const auto& e : kEdges)
    if (e.from == node || e.to == node) out.push_back(e);
  return out;
}

std::string Id(const std::string& s) {
  return s;
}

TEST(LineageGraphTest, UpstreamDoesNotWanderIntoSiblings) {
  auto g = WalkLineage("ts", LineageDirection::kUpstream, 50, EdgesOf);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(LineageText(*g, LineageDirection::kUpstream, Id),
            "ts\nupstream:\n  <- model\n    <- src\n      <- file:a.csv@1\n");
}

TEST(LineageGraphTest, BothWaysAndDepth) {
  auto g = WalkLineage("model", LineageDirection::kBoth, 1, EdgesOf);
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(LineageText(*g, LineageDirection::kBoth, Id),
            "model\nupstream:\n  <- src\ndownstream:\n  -> ts\n");
  auto down = WalkLineage("src", LineageDirection::kDownstream, 50, EdgesOf);
  EXPECT_EQ(LineageText(*down, LineageDirection::kDownstream, Id),
            "src\ndownstream:\n  -> model\n    -> ts\n      -> model:m@1\n  -> other_model\n");
}

TEST(LineageGraphTest, DotAndNothingRecorded) {
  auto g = WalkLineage("model", LineageDirection::kUpstream, 50, EdgesOf);
  EXPECT_EQ(LineageDot(*g, [](const std::string& n) { return "<" + n + ">"; }),
            "digraph lineage {\n  rankdir=LR;\n  node [shape=box];\n"
            "  \"file:a.csv@1\" [label=\"<file:a.csv@1>\"];\n"
            "  \"model\" [label=\"<model>\", style=bold];\n"
            "  \"src\" [label=\"<src>\"];\n"
            "  \"src\" -> \"model\";\n"
            "  \"file:a.csv@1\" -> \"src\";\n}\n");
  auto lone = WalkLineage("nothing", LineageDirection::kBoth, 50, EdgesOf);
  EXPECT_EQ(LineageText(*lone, LineageDirection::kBoth, Id),
            "nothing\nupstream:\n  (nothing recorded)\ndownstream:\n  (nothing recorded)\n");
}

TEST(LineageGraphTest, ErrorsOfTheEdgeSourcePassThrough) {
  auto g = WalkLineage("x", LineageDirection::kBoth, 5, [](const std::string&) {
    return base::Result<std::vector<registry::LineageEdge>>(base::IoError("registry gone"));
  });
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().message(), "registry gone");
}

}  // namespace
}  // namespace sluice::orchestrate
