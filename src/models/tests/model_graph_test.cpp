#include "models/model_graph.h"

#include <gtest/gtest.h>

#include "config/project_loader.h"

namespace sluice::models {
namespace {

config::ProjectSpec Project(const std::string& models_yaml = "") {
  std::vector<config::Diagnostic> diagnostics;
  auto p = config::LoadProjectFromString(
      "name: t\nsources:\n  - name: tx\n    type: file\n    format: csv\n    path: tx.csv\n"
      "    columns:\n      - {name: id, type: int64}\n" +
          models_yaml,
      "sluice.yaml", &diagnostics);
  EXPECT_TRUE(p.ok()) << p.status().ToString()
                      << (diagnostics.empty() ? "" : diagnostics[0].ToString());
  return std::move(p).value();
}

TEST(ModelGraphTest, OrdersModelsByDependencies) {
  auto g = ModelGraph::FromSql(Project(), {{"c", "SELECT * FROM {{ ref('b') }}"},
                                           {"b", "SELECT * FROM {{ ref('a') }}"},
                                           {"a", "SELECT * FROM {{ source('tx') }}"},
                                           {"d", "SELECT * FROM {{ ref('a') }}, {{ ref('c') }}"}});
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  std::vector<std::string> order;
  for (const auto& m : g->models())
    order.push_back(m.name);
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(g->Find("a")->sources, (std::vector<std::string>{"tx"}));
  EXPECT_EQ(g->Find("d")->refs, (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(g->Find("a")->config.materialized, config::Materialization::kView);

  EXPECT_EQ(*g->Select({}), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(*g->Select({"c"}), (std::vector<std::string>{"c"}));
  EXPECT_EQ(*g->Select({"+c"}), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(*g->Select({"d", "b"}), (std::vector<std::string>{"b", "d"}));
  // Downstream: d reads c, which reads b.
  EXPECT_EQ(*g->Select({"b+"}), (std::vector<std::string>{"b", "c", "d"}));
  EXPECT_EQ(*g->Select({"c+"}), (std::vector<std::string>{"c", "d"}));
  EXPECT_EQ(*g->Select({"d+"}), (std::vector<std::string>{"d"}));
  EXPECT_EQ(*g->Select({"+c+"}), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(*g->Select({"+b", "c"}), (std::vector<std::string>{"a", "b", "c"}));
  auto unknown_below = g->Select({"bb+"});
  ASSERT_FALSE(unknown_below.ok());
  EXPECT_NE(unknown_below.status().message().find("no model 'bb' (did you mean 'b'?)"),
            std::string::npos);
  auto unknown = g->Select({"+bb"});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("no model 'bb' (did you mean 'b'?)"),
            std::string::npos);
}

TEST(ModelGraphTest, UnknownNamesAreReportedWithFileLineAndColumn) {
  auto g = ModelGraph::FromSql(
      Project(), {{"a", "SELECT *\nFROM {{ source('txx') }}"},
                  {"b", "SELECT *\n  FROM {{ ref('aa') }}\n  JOIN {{ ref('tx') }} USING (id)"}});
  ASSERT_FALSE(g.ok());
  const std::string& m = g.status().message();
  EXPECT_NE(m.find("models/a.sql:2:6: model 'a' reads unknown source 'txx' (did you mean 'tx'?)"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("models/b.sql:2:8: model 'b' refers to unknown model 'aa' (did you mean "
                   "'a'?)"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("models/b.sql:3:8: model 'b' refers to unknown model 'tx'"), std::string::npos);
  EXPECT_NE(m.find("use {{ source('tx') }}"), std::string::npos);
}

TEST(ModelGraphTest, CyclesAreRejectedNamingTheReference) {
  auto g = ModelGraph::FromSql(Project(), {{"a", "SELECT * FROM {{ ref('c') }}"},
                                           {"b", "SELECT * FROM {{ ref('a') }}"},
                                           {"c", "SELECT *\nFROM {{ ref('b') }}"}});
  ASSERT_FALSE(g.ok());
  const std::string& m = g.status().message();
  EXPECT_NE(m.find("closes a cycle: a -> c -> b -> a"), std::string::npos) << m;
  EXPECT_NE(m.find("models/b.sql:1:15: model 'b' depends on 'a'"), std::string::npos) << m;
  auto self = ModelGraph::FromSql(Project(), {{"s", "SELECT * FROM {{ ref('s') }}"}});
  ASSERT_FALSE(self.ok());
  EXPECT_NE(self.status().message().find("models/s.sql:1:15: model 's' refers to itself"),
            std::string::npos);
}

TEST(ModelGraphTest, ConfigsAndTestReferencesJoinTheGraph) {
  auto g = ModelGraph::FromSql(
      Project("models:\n  configs:\n    - name: a\n    - name: b\n      materialized: table\n      "
              "tests:\n"
              "        - {type: relationships, column: id, to: a, field: id}\n"
              "        - {type: relationships, column: id, to: tx, field: id}\n"
              "        - {type: sql, sql: \"SELECT * FROM {{ this }} WHERE id < 0\"}\n"),
      {{"a", "SELECT 1 AS id"}, {"b", "SELECT * FROM {{ source('tx') }}"}});
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  const Model* b = g->Find("b");
  EXPECT_EQ(b->config.materialized, config::Materialization::kTable);
  EXPECT_EQ(b->depends_on, (std::vector<std::string>{"a"}));
  EXPECT_EQ(b->test_sources, (std::vector<std::string>{"tx"}));
  ASSERT_EQ(b->test_sql.size(), 3u);
  EXPECT_EQ(b->test_sql[2].refs.size(), 1u);
  EXPECT_EQ(*g->Select({"+b"}), (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace sluice::models
