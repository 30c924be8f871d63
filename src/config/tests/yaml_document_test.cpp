#include "config/yaml_document.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice::config {
namespace {

YamlDocument Parse(std::string_view text) {
  std::vector<Diagnostic> diagnostics;
  auto doc = ParseYamlDocument(text, "f.yaml", &diagnostics);
  EXPECT_TRUE(doc.ok()) << (diagnostics.empty() ? "" : diagnostics[0].ToString());
  return doc.ok() ? *doc : YamlDocument{};
}

std::string ParseError(std::string_view text) {
  std::vector<Diagnostic> diagnostics;
  auto doc = ParseYamlDocument(text, "f.yaml", &diagnostics);
  EXPECT_FALSE(doc.ok());
  EXPECT_EQ(diagnostics.size(), 1u);
  return diagnostics.empty() ? "" : diagnostics[0].ToString();
}

TEST(YamlDocumentTest, KeepsMarksOfKeysAndValues) {
  const YamlDocument doc = Parse("a: 1\nlist:\n  - {x: y}\n  -   z\n");
  ASSERT_EQ(doc.root.kind, YamlKind::kMap);
  ASSERT_EQ(doc.root.entries.size(), 2u);
  const YamlEntry& list = doc.root.entries[1];
  EXPECT_EQ(list.key, "list");
  EXPECT_EQ(list.key_mark.line, 2);
  EXPECT_EQ(list.key_mark.column, 1);
  ASSERT_EQ(list.value.kind, YamlKind::kSequence);
  ASSERT_EQ(list.value.items.size(), 2u);
  const YamlNode& map = list.value.items[0];
  ASSERT_EQ(map.kind, YamlKind::kMap);
  EXPECT_EQ(map.entries[0].key_mark.line, 3);
  EXPECT_EQ(map.entries[0].key_mark.column, 6);
  EXPECT_EQ(map.entries[0].value.scalar, "y");
  EXPECT_EQ(list.value.items[1].mark.line, 4);
  EXPECT_EQ(list.value.items[1].mark.column, 7);
}

TEST(YamlDocumentTest, DistinguishesNullQuotedAndPlainScalars) {
  const YamlDocument doc = Parse("a:\nb: ~\nc: 'true'\nd: true\ne: ''\n");
  const auto& e = doc.root.entries;
  EXPECT_EQ(e[0].value.kind, YamlKind::kNull);
  EXPECT_EQ(e[0].value.mark.line, 1);  // an empty value points at its key
  EXPECT_EQ(e[1].value.kind, YamlKind::kNull);
  EXPECT_TRUE(e[2].value.quoted);
  EXPECT_EQ(DescribeYamlNode(e[2].value), "a string");
  EXPECT_EQ(DescribeYamlNode(e[3].value), "a bool");
  EXPECT_EQ(e[4].value.kind, YamlKind::kScalar);
  EXPECT_EQ(e[4].value.scalar, "");
}

TEST(YamlDocumentTest, KeepsDuplicateKeysForTheReaderToReport) {
  const YamlDocument doc = Parse("a: 1\na: 2\n");
  ASSERT_EQ(doc.root.entries.size(), 2u);
  EXPECT_EQ(doc.root.entries[1].value.scalar, "2");
}

TEST(YamlDocumentTest, EmptyFileIsNull) {
  EXPECT_EQ(Parse("").root.kind, YamlKind::kNull);
}

TEST(YamlDocumentTest, ExpandsAliases) {
  const YamlDocument doc = Parse("a: &x [1, 2]\nb: *x\n");
  EXPECT_EQ(doc.root.entries[1].value.items.size(), 2u);
}

TEST(YamlDocumentTest, SyntaxErrorsCarryTheParserPosition) {
  EXPECT_EQ(ParseError("a: [1, 2\nb: 3\n").substr(0, 14), "f.yaml:2:2: YA");
  EXPECT_EQ(ParseError("a: 1\n  b: 2\n").rfind("f.yaml:2:4: YAML syntax error: ", 0), 0u);
  EXPECT_EQ(ParseError("a: *nope\n"),
            "f.yaml:1:4: YAML syntax error: the referenced anchor is not defined");
}

TEST(YamlDocumentTest, StrayCommaIsAnErrorNotAnEndlessLoop) {
  // yaml-cpp 0.7's LoadAll loops forever allocating on this input (found by fuzzing).
  EXPECT_EQ(ParseError(",\n"), "f.yaml:1:1: YAML syntax error: unexpected character");
  EXPECT_EQ(ParseError(",,,a\n").substr(0, 12), "f.yaml:1:1: ");
}

TEST(YamlDocumentTest, RejectsSeveralDocuments) {
  EXPECT_EQ(ParseError("a: 1\n---\nb: 2\n"),
            "f.yaml:3:1: only one YAML document per file is allowed");
}

TEST(YamlDocumentTest, BoundsNestingDepth) {
  const std::string deep = std::string(100, '[') + std::string(100, ']');
  EXPECT_NE(ParseError(deep).find("nesting deeper than 64 levels"), std::string::npos);
  const std::string very_deep = std::string(100000, '[');
  EXPECT_NE(ParseError(very_deep).find("f.yaml:"), std::string::npos);
}

TEST(YamlDocumentTest, BoundsAliasExpansion) {
  // Each level doubles the size: 2^30 nodes once expanded.
  std::string bomb = "a0: &a0 [x, x]\n";
  for (int i = 1; i <= 30; ++i) {
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [*a" + std::to_string(i - 1) +
            ", *a" + std::to_string(i - 1) + "]\n";
  }
  EXPECT_NE(ParseError(bomb).find("more than 200000 nodes"), std::string::npos);
}

}  // namespace
}  // namespace sluice::config
