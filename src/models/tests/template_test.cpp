#include "models/template.h"

#include <gtest/gtest.h>

namespace sluice::models {
namespace {

using warehouse::SqlPosition;

TEST(TemplateTest, ParsesSourcesRefsAndTheirPositions) {
  auto t = ParseTemplate("SELECT *\nFROM {{ source('tx') }} JOIN {{ref(\"users_m\")}} USING (id)",
                         "models/m.sql", false);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->refs.size(), 2u);
  EXPECT_EQ(t->refs[0].kind, RefKind::kSource);
  EXPECT_EQ(t->refs[0].name, "tx");
  EXPECT_EQ(t->refs[0].position, (SqlPosition{2, 6}));
  EXPECT_EQ(t->refs[1].kind, RefKind::kRef);
  EXPECT_EQ(t->refs[1].name, "users_m");
}

TEST(TemplateTest, BadExpressionsAreReportedAtTheirPlace) {
  auto t = ParseTemplate("SELECT 1\n  FROM {{ model('x') }}", "models/m.sql", false);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("models/m.sql:2:8: unsupported template expression "
                                      "'{{ model('x') }}'"),
            std::string::npos)
      << t.status().message();
  auto unclosed = ParseTemplate("SELECT {{ ref('a') FROM t", "models/m.sql", false);
  ASSERT_FALSE(unclosed.ok());
  EXPECT_NE(unclosed.status().message().find("models/m.sql:1:8: '{{' is not closed"),
            std::string::npos);
  auto two_args = ParseTemplate("{{ source('raw', 'tx') }}", "models/m.sql", false);
  ASSERT_FALSE(two_args.ok());
  EXPECT_NE(two_args.status().message().find("sources have one name"), std::string::npos);
  EXPECT_FALSE(ParseTemplate("{{ this }}", "f", false).ok());
  EXPECT_TRUE(ParseTemplate("{{ this }}", "f", true).ok());
  auto jinja = ParseTemplate("{% if x %}", "models/m.sql", false);
  ASSERT_FALSE(jinja.ok());
  EXPECT_NE(jinja.status().message().find("models/m.sql:1:1: '{%' blocks"), std::string::npos);
}

TEST(TemplateTest, RenderedPositionsMapBackToTheTemplate) {
  const std::string text = "SELECT a,\n  bad FROM {{ source('tx') }} WHERE x = é AND y\n;\n";
  auto t = ParseTemplate(text, "m.sql", false);
  ASSERT_TRUE(t.ok());
  const RenderedSql r =
      Render(*t, [](const TemplateRef&) { return std::string("\"sluice_src_tx_0123456789ab\""); });
  EXPECT_EQ(r.sql().back(), 'y');  // trailing ';' and whitespace dropped
  // "bad" is before the substitution: same place.
  EXPECT_EQ(r.ToTemplate({2, 3}), (SqlPosition{2, 3}));
  // Inside the substituted name: the "{{".
  const std::size_t sub = r.sql().find("sluice_src");
  const SqlPosition in_sub = warehouse::PositionOfOffset(r.sql(), sub);
  EXPECT_EQ(r.ToTemplate(in_sub), (SqlPosition{2, 12}));
  // After the substitution the column shifts back by the length difference.
  const SqlPosition y_sql = warehouse::PositionOfOffset(r.sql(), r.sql().rfind('y'));
  const SqlPosition y_template = warehouse::PositionOfOffset(text, text.rfind('y'));
  EXPECT_EQ(r.ToTemplate(y_sql), y_template);
}

TEST(TemplateTest, ExcerptPointsAtTheColumn) {
  EXPECT_EQ(Excerpt("SELECT\n  amountx\nFROM t", {2, 3}), "  2 |   amountx\n    |   ^");
}

}  // namespace
}  // namespace sluice::models
