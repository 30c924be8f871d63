#include "config/map_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <tuple>

namespace sluice::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

struct Settings {
  std::string name;
  std::optional<std::string> label;
  std::int64_t count = 7;
  bool on = false;
  std::optional<double> ratio;
  base::Duration every{0};
  std::vector<std::string> tags;
  Compression compression = Compression::kAuto;
  std::string nested;
  Origin origin;
};

// Reads `yaml` as a Settings map and returns the diagnostics as strings.
std::vector<std::string> Read(std::string_view yaml, Settings* s) {
  std::vector<Diagnostic> diagnostics;
  auto doc = ParseYamlDocument(yaml, "f.yaml", &diagnostics);
  EXPECT_TRUE(doc.ok());
  DiagnosticSink sink("f.yaml", &diagnostics);
  MapReader r(sink, doc->root, "s", &s->origin);
  r.Read("name", Presence::kRequired, &s->name);
  r.Read("label", Presence::kOptional, &s->label);
  r.Read("count", Presence::kOptional, &s->count);
  r.Read("on", Presence::kOptional, &s->on);
  r.Read("ratio", Presence::kOptional, &s->ratio);
  r.Read("every", Presence::kOptional, &s->every);
  r.Read("tags", Presence::kOptional, &s->tags);
  r.ReadEnum("compression", Presence::kOptional, kCompressionWords, &s->compression);
  r.ReadMap("inner", Presence::kOptional,
            [&](MapReader& m) { m.Read("value", Presence::kRequired, &s->nested); });
  r.Finish();
  std::stable_sort(diagnostics.begin(), diagnostics.end(), [](const auto& a, const auto& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
  std::vector<std::string> out;
  for (const auto& d : diagnostics)
    out.push_back(d.ToString());
  return out;
}

TEST(MapReaderTest, ReadsEveryTypeAndRecordsWhereValuesAre) {
  Settings s;
  EXPECT_THAT(Read("name: a\nlabel: b\ncount: -3\non: yes\nratio: 0.5\nevery: 1h30m\n"
                   "tags: [x, 'y']\ncompression: zstd\ninner: {value: v}\n",
                   &s),
              IsEmpty());
  EXPECT_EQ(s.name, "a");
  EXPECT_EQ(s.label, "b");
  EXPECT_EQ(s.count, -3);
  EXPECT_TRUE(s.on);
  EXPECT_EQ(s.ratio, 0.5);
  EXPECT_EQ(s.every, std::chrono::minutes(90));
  EXPECT_THAT(s.tags, ElementsAre("x", "y"));
  EXPECT_EQ(s.compression, Compression::kZstd);
  EXPECT_EQ(s.nested, "v");
  EXPECT_EQ(s.origin.Of("tags[1]").Where(), "f.yaml:7:11");
  EXPECT_EQ(s.origin.Of("tags[1]").key_path, "s.tags[1]");
  EXPECT_EQ(s.origin.Of("inner.value").Where(), "f.yaml:9:16");
  EXPECT_EQ(s.origin.Of("inner.value").key_path, "s.inner.value");
  EXPECT_FALSE(s.origin.Has("missing"));
  EXPECT_EQ(s.origin.Of("missing").key_path, "s.missing");
}

TEST(MapReaderTest, KeepsDefaultsForAbsentOrNullKeys) {
  Settings s;
  EXPECT_THAT(Read("name: a\ncount:\n", &s), IsEmpty());
  EXPECT_EQ(s.count, 7);
  EXPECT_EQ(s.compression, Compression::kAuto);
}

TEST(MapReaderTest, ReportsWrongTypes) {
  Settings s;
  EXPECT_THAT(
      Read("name: [a]\ncount: many\non: maybe\nratio: x\ntags: solo\nlabel: {a: 1}\n"
           "every: 5\ninner: 3\n",
           &s),
      ElementsAre(
          "f.yaml:1:7: s.name: expected a string, got a list",
          "f.yaml:2:8: s.count: expected an int, got a string 'many'",
          "f.yaml:3:5: s.on: expected a bool, got a string 'maybe'",
          "f.yaml:4:8: s.ratio: expected a number, got a string 'x'",
          "f.yaml:5:7: s.tags: expected a list, got a string 'solo'",
          "f.yaml:6:8: s.label: expected a string, got a map",
          "f.yaml:7:8: s.every: invalid duration '5': missing unit after the number (expected "
          "e.g. 250ms, 30s, 15m, 1h, 7d; units us, ms, s, m, h, d, w)",
          "f.yaml:8:8: s.inner: expected a map, got an int '3'"));
}

TEST(MapReaderTest, ReportsMissingEmptyUnknownAndDuplicateKeys) {
  Settings s;
  EXPECT_THAT(Read("nme: a\ninner: {}\ncount: 1\ncount: 2\n", &s),
              ElementsAre("f.yaml:1:1: s.name: missing required key 'name'",
                          "f.yaml:1:1: s.nme: unknown key 'nme' (did you mean 'name'?)",
                          "f.yaml:2:8: s.inner.value: missing required key 'value'",
                          "f.yaml:4:1: s.count: duplicate key 'count' (first at line 3:1)"));
  Settings t;
  EXPECT_THAT(Read("name: ''\n", &t), ElementsAre("f.yaml:1:7: s.name: must not be empty"));
  Settings u;
  EXPECT_THAT(Read("name:\n", &u),
              ElementsAre("f.yaml:1:1: s.name: required key 'name' has no value"));
}

TEST(MapReaderTest, ReportsUnknownEnumValuesWithSuggestionOrChoices) {
  Settings s;
  EXPECT_THAT(
      Read("name: a\ncompression: gzp\n", &s),
      ElementsAre("f.yaml:2:14: s.compression: unknown value 'gzp' (did you mean 'gzip'?)"));
  Settings t;
  EXPECT_THAT(Read("name: a\ncompression: lzma4\n", &t),
              ElementsAre("f.yaml:2:14: s.compression: unknown value 'lzma4' (expected one of: "
                          "auto, none, gzip, zstd)"));
}

TEST(MapReaderTest, NonMapReportsOnceAndReadsNothing) {
  Settings s;
  EXPECT_THAT(Read("[1, 2]\n", &s), ElementsAre("f.yaml:1:1: s: expected a map, got a list"));
}

}  // namespace
}  // namespace sluice::config
