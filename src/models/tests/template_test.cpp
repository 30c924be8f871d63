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


TEST(TemplateValuesTest, IntervalAndVarsParseWithTheirPositions) {
  auto t = ParseTemplate(
      "SELECT * FROM x\nWHERE ts >= {{ interval_start }} AND ts < {{interval_end}}\n"
      "  AND kind = {{ var('kind') }} AND k2 = {{ var(\"kind\") }}",
      "models/m.sql", false);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->refs.size(), 4u);
  EXPECT_EQ(t->refs[0].kind, RefKind::kIntervalStart);
  EXPECT_EQ(t->refs[0].position, (SqlPosition{2, 13}));
  EXPECT_EQ(t->refs[1].kind, RefKind::kIntervalEnd);
  EXPECT_EQ(t->refs[2].kind, RefKind::kVar);
  EXPECT_EQ(t->refs[2].name, "kind");
  EXPECT_EQ(t->refs[2].position, (SqlPosition{3, 14}));
  EXPECT_TRUE(IsValue(t->refs[3].kind));
  EXPECT_FALSE(IsValue(RefKind::kSource));

  auto bad_name = ParseTemplate("SELECT {{ var('Day') }}", "models/m.sql", false);
  ASSERT_FALSE(bad_name.ok());
  EXPECT_NE(bad_name.status().message().find("models/m.sql:1:8: variable name 'Day' must match"),
            std::string::npos)
      << bad_name.status().message();
  auto with_default = ParseTemplate("SELECT {{ var('day', 'x') }}", "models/m.sql", false);
  ASSERT_FALSE(with_default.ok());
  EXPECT_NE(with_default.status().message().find("variables have one name and no default"),
            std::string::npos)
      << with_default.status().message();
  auto unknown = ParseTemplate("SELECT {{ interval }}", "models/m.sql", false);
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("models/m.sql:1:8: unsupported template expression "
                                            "'{{ interval }}' (the interval is"),
            std::string::npos)
      << unknown.status().message();
}

TEST(TemplateValuesTest, MissingValuesNameTheirPlace) {
  auto t = ParseTemplate("SELECT 1\nWHERE a = {{ var('day') }} AND ts < {{ interval_end }}",
                         "models/m.sql", false);
  ASSERT_TRUE(t.ok());
  TemplateValues none;
  const auto missing = MissingValues(*t, none);
  ASSERT_EQ(missing.size(), 2u);
  EXPECT_EQ(
      missing[0].rfind("models/m.sql:2:11: {{ var('day') }} has no value: pass --var day=", 0), 0u)
      << missing[0];
  EXPECT_EQ(missing[1].rfind("models/m.sql:2:37: {{ interval_end }} has no value: only a run of a "
                             "partitioned pipeline",
                             0),
            0u)
      << missing[1];
  TemplateValues all;
  all.vars["day"] = "x";
  all.interval_start = base::ProcessingTime(std::chrono::hours(24 * 19'723));
  all.interval_end = *all.interval_start + std::chrono::hours(1);
  EXPECT_TRUE(MissingValues(*t, all).empty());
  all.vars.clear();
  all.vars["other"] = "x";
  EXPECT_EQ(MissingValues(*t, all).size(), 1u);
}

TEST(TemplateValuesTest, ValuesRenderAsQuotedLiterals) {
  auto t = ParseTemplate("{{ interval_start }} {{ interval_end }} {{ var('v') }}", "m.sql", false);
  ASSERT_TRUE(t.ok());
  TemplateValues values;
  values.interval_start = base::ProcessingTime(std::chrono::hours(24 * 19'723));  // 2024-01-01
  values.interval_end = *values.interval_start + std::chrono::microseconds(3'600'000'001);
  values.vars["v"] = "it's'); DROP TABLE x; --";
  EXPECT_EQ(ValueLiteral(t->refs[0], values, "duckdb"), "TIMESTAMP '2024-01-01 00:00:00'");
  EXPECT_EQ(ValueLiteral(t->refs[1], values, "duckdb"), "TIMESTAMP '2024-01-01 01:00:00.000001'");
  // Quotes doubled: the value stays one string literal.
  EXPECT_EQ(ValueLiteral(t->refs[2], values, "duckdb"), "'it''s''); DROP TABLE x; --'");
  values.vars["v"] = "a\\'b";
  EXPECT_EQ(ValueLiteral(t->refs[2], values, "duckdb"), "'a\\''b'");
  // PostgreSQL: an escape string, whatever standard_conforming_strings is.
  EXPECT_EQ(ValueLiteral(t->refs[2], values, "postgres"), "E'a\\\\''b'");
  EXPECT_EQ(ValueLiteral(t->refs[2], TemplateValues{}, "duckdb"), std::nullopt);

  const RenderedSql r = Render(*t, [&](const TemplateRef& ref) {
    return ValueLiteral(ref, values, "duckdb").value_or("?");
  });
  EXPECT_EQ(r.sql(),
            "TIMESTAMP '2024-01-01 00:00:00' TIMESTAMP '2024-01-01 01:00:00.000001' 'a\\''b'");
  // The values a template uses, for its definition hash.
  EXPECT_EQ(UsedValues(*t, values),
            "{{ interval_start }}=TIMESTAMP '2024-01-01 00:00:00'\n"
            "{{ interval_end }}=TIMESTAMP '2024-01-01 01:00:00.000001'\n"
            "{{ var('v') }}='a\\''b'\n");
  auto plain = ParseTemplate("SELECT 1 FROM {{ source('x') }}", "m.sql", false);
  EXPECT_EQ(UsedValues(*plain, values), "");
}

TEST(TemplateValuesTest, VarFlagsAreParsedStrictly) {
  auto ok = ParseVarAssignments({"day=2024-01-01", "empty=", "eq=a=b", "day=2024-01-02"});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->at("day"), "2024-01-02");
  EXPECT_EQ(ok->at("empty"), "");
  EXPECT_EQ(ok->at("eq"), "a=b");
  EXPECT_FALSE(ParseVarAssignments({"novalue"}).ok());
  EXPECT_FALSE(ParseVarAssignments({"=x"}).ok());
  auto bad = ParseVarAssignments({"Bad-Name=x"});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--var 'Bad-Name=x'"), std::string::npos);
}

}  // namespace
}  // namespace sluice::models
