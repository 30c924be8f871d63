#include "config/project_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "config/project_validator.h"

namespace sluice::config {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// Every diagnostic of loading `yaml` as sluice.yaml (no project dir), as printed to users.
std::vector<std::string> Errors(std::string_view yaml) {
  std::vector<Diagnostic> diagnostics;
  auto spec = LoadProjectFromString(yaml, "sluice.yaml", &diagnostics);
  EXPECT_EQ(spec.ok(), diagnostics.empty());
  std::vector<std::string> out;
  for (const auto& d : diagnostics)
    out.push_back(d.ToString());
  return out;
}

ProjectSpec Load(std::string_view yaml) {
  std::vector<Diagnostic> diagnostics;
  auto spec = LoadProjectFromString(yaml, "sluice.yaml", &diagnostics);
  for (const auto& d : diagnostics)
    ADD_FAILURE() << d.ToString();
  return spec.ok() ? *spec : ProjectSpec{};
}

// Lines 1-15: a project with one source and two entities, for tests to append to (line 16 on).
constexpr std::string_view kBase = R"(name: p
sources:
  - name: txns
    type: file
    format: csv
    path: t.csv
    event_time: ts
    columns:
      - {name: user_id, type: string}
      - {name: ts, type: timestamp}
      - {name: amount, type: double}
      - {name: merchant, type: string}
entities:
  - {name: user, keys: [user_id]}
  - {name: card, keys: [card_id]}
)";

std::vector<std::string> ErrorsWithBase(std::string_view more) {
  return Errors(std::string(kBase) + std::string(more));
}

// A project folder in a fresh temporary directory.
class TempProject {
 public:
  explicit TempProject(const std::map<std::string, std::string>& files) {
    dir_ =
        fs::temp_directory_path() /
        ("sluice_config_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    for (const auto& [path, text] : files) {
      fs::create_directories((dir_ / path).parent_path());
      std::ofstream(dir_ / path) << text;
    }
  }
  ~TempProject() { fs::remove_all(dir_); }
  const fs::path& dir() const { return dir_; }

  std::vector<std::string> Errors() const {
    std::vector<Diagnostic> diagnostics;
    auto spec = LoadProject(dir_, &diagnostics);
    EXPECT_EQ(spec.ok(), diagnostics.empty());
    std::vector<std::string> out;
    for (const auto& d : diagnostics)
      out.push_back(d.ToString());
    return out;
  }

 private:
  fs::path dir_;
};

TEST(DiagnosticTest, PrintsFilePositionKeyPathMessageAndSuggestion) {
  EXPECT_EQ((Diagnostic{"sluice.yaml", 12, 5, "sources[1].format", "unknown value 'cvs'", "csv"})
                .ToString(),
            "sluice.yaml:12:5: sources[1].format: unknown value 'cvs' (did you mean 'csv'?)");
  EXPECT_EQ((Diagnostic{"a.yaml", 0, 0, "", "cannot read", std::nullopt}).ToString(),
            "a.yaml: cannot read");
}

TEST(ProjectLoaderTest, ExampleProjectLoadsCleanly) {
  std::vector<Diagnostic> diagnostics;
  auto spec = LoadProject(fs::path(SLUICE_CONFIG_TESTDATA) / "fraud", &diagnostics);
  for (const auto& d : diagnostics)
    ADD_FAILURE() << d.ToString();
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  EXPECT_EQ(spec->name, "fraud");
  EXPECT_THAT(spec->files, ElementsAre("sluice.yaml", "sources.yaml", "features/user.yaml"));
  ASSERT_EQ(spec->sources.size(), 4u);
  const SourceSpec& txns = spec->sources[0];
  EXPECT_EQ(txns.format, FileFormat::kCsv);
  EXPECT_DOUBLE_EQ(txns.error_budget, 0.01);
  EXPECT_THAT(txns.csv.null_values, ElementsAre("", "NA"));
  EXPECT_EQ(txns.origin.Of("format").Where(), "sources.yaml:4:13");
  EXPECT_EQ(txns.columns[2].type, types::LogicalType::kTimestamp);
  EXPECT_FALSE(txns.columns[0].nullable);
  EXPECT_EQ(spec->sources[2].connection.dsn_env, "PG_DSN");
  EXPECT_DOUBLE_EQ(spec->sources[3].error_budget, 0.001);
  EXPECT_THAT(spec->models.files, ElementsAre("daily_spend"));
  EXPECT_TRUE(spec->HasModel("daily_spend"));
  const FeatureViewSpec* view = spec->FindFeatureView("user_txn");
  ASSERT_NE(view, nullptr);
  EXPECT_EQ(view->ttl, std::chrono::hours(24 * 30));
  EXPECT_EQ(view->aggregations[1].window, std::chrono::hours(24));
  EXPECT_EQ(view->aggregations[3].window, std::nullopt);  // lifetime
  EXPECT_EQ(view->aggregations[3].k, 5);
  EXPECT_THAT(view->FeatureNames(),
              ElementsAre("amount_usd", "txn_count_1h", "amount_sum_24h", "amount_max_7d",
                          "last_merchants", "merchants_30d", "ratio"));
  EXPECT_EQ(view->defaults.at("txn_count_1h"), "0");
  EXPECT_EQ(spec->pipelines[0].steps.size(), 7u);
  EXPECT_EQ(spec->pipelines[0].retry_backoff, std::chrono::seconds(30));
  EXPECT_EQ(spec->pipelines[1].retries, 0);
  EXPECT_EQ(spec->training_sets[0].formats.size(), 2u);
}

TEST(ProjectLoaderTest, MinimalProjectGetsDefaults) {
  const ProjectSpec spec = Load("name: p\n");
  EXPECT_EQ(spec.version, 1);
  EXPECT_EQ(spec.lake.path, ".sluice/lake");
  EXPECT_EQ(spec.lake.compression, LakeCompression::kZstd);
  EXPECT_EQ(spec.registry.path, ".sluice/registry.sqlite");
  EXPECT_EQ(spec.warehouse.type, WarehouseType::kDuckdb);
  EXPECT_EQ(spec.warehouse.path, ".sluice/warehouse.duckdb");
  EXPECT_EQ(spec.models.dir, "models");
  const ProjectSpec base = Load(kBase);
  EXPECT_EQ(base.sources[0].extra_columns, ExtraColumns::kFail);
  EXPECT_EQ(base.sources[0].compression, Compression::kAuto);
  EXPECT_EQ(base.sources[0].csv.delimiter, ",");
  EXPECT_DOUBLE_EQ(base.sources[0].error_budget, 0.0);
}

TEST(ProjectLoaderTest, ErrorStatusCountsEveryDiagnostic) {
  std::vector<Diagnostic> diagnostics;
  auto spec =
      LoadProjectFromString("name: P\nversion: 2\nlake: {pth: x}\n", "sluice.yaml", &diagnostics);
  ASSERT_FALSE(spec.ok());
  EXPECT_EQ(spec.status().code(), base::StatusCode::kInvalidArgument);
  EXPECT_EQ(spec.status().message(), "project file sluice.yaml has 3 errors");
  EXPECT_EQ(diagnostics.size(), 3u);
}

TEST(ProjectLoaderTest, YamlSyntaxError) {
  EXPECT_THAT(Errors("name: p\nsources: [\n"),
              ElementsAre("sluice.yaml:3:1: YAML syntax error: end of sequence flow not found"));
  EXPECT_THAT(Errors("name: p\n  bad: indent\n"),
              ElementsAre("sluice.yaml:2:6: YAML syntax error: illegal map value"));
}

TEST(ProjectLoaderTest, UnknownKeysSuggestTheClosestKey) {
  EXPECT_THAT(
      Errors("name: p\nsoures: []\nwarehouse: {typ: duckdb}\nbanana: 1\n"),
      ElementsAre("sluice.yaml:2:1: soures: unknown key 'soures' (did you mean 'sources'?)",
                  "sluice.yaml:3:13: warehouse.typ: unknown key 'typ' (did you mean 'type'?)",
                  "sluice.yaml:4:1: banana: unknown key 'banana'"));
  EXPECT_THAT(
      ErrorsWithBase("feature_views:\n  - {name: v, entity: user, source: txns, ttll: 1h}\n"),
      ElementsAre("sluice.yaml:17:43: feature_views[0].ttll: unknown key 'ttll' (did you "
                  "mean 'ttl'?)"));
}

TEST(ProjectLoaderTest, WrongTypes) {
  EXPECT_THAT(
      Errors("name: p\nversion: one\nsources: {name: x}\nentities: [x]\n"
             "pipelines:\n  - {name: d, retries: [1], steps: []}\n"),
      ElementsAre("sluice.yaml:2:10: version: expected an int, got a string 'one'",
                  "sluice.yaml:3:10: sources: expected a list, got a map",
                  "sluice.yaml:4:12: entities[0]: expected a map, got a string 'x'",
                  "sluice.yaml:6:24: pipelines[0].retries: expected an int, got a list",
                  "sluice.yaml:6:36: pipelines[0].steps: a pipeline needs at least one step"));
  EXPECT_THAT(
      ErrorsWithBase("online_stores:\n  - {name: s, type: rocksdb, path: {a: b}}\n"),
      ElementsAre("sluice.yaml:17:36: online_stores[0].path: expected a string, got a map"));
}

TEST(ProjectLoaderTest, MissingRequiredKeys) {
  // A missing type leaves the type-specific keys unchecked rather than guessed.
  EXPECT_THAT(Errors("version: 1\nsources:\n  - {name: s}\nentities:\n  - {name: e, keys: []}\n"),
              ElementsAre("sluice.yaml:1:1: name: missing required key 'name'",
                          "sluice.yaml:3:5: sources[0].type: missing required key 'type'",
                          "sluice.yaml:3:5: sources[0].columns: missing required key 'columns'",
                          "sluice.yaml:5:21: entities[0].keys: an entity needs at least one key"));
  EXPECT_THAT(
      Errors("name: p\nsources:\n  - {name: k, type: kafka, columns: [{name: a, type: int}]}\n"
             "  - {name: f, type: file, columns: [{name: a, type: int}]}\n"),
      ElementsAre("sluice.yaml:3:5: sources[0].topic: missing required key 'topic' for "
                  "kafka sources",
                  "sluice.yaml:3:5: sources[0].brokers: missing required key 'brokers' "
                  "for kafka sources",
                  "sluice.yaml:4:5: sources[1].format: missing required key 'format' for "
                  "file sources",
                  "sluice.yaml:4:5: sources[1].path: missing required key 'path' for "
                  "file sources"));
}

TEST(ProjectLoaderTest, InvalidEnumValuesSuggestTheClosest) {
  EXPECT_THAT(
      Errors("name: p\nsources:\n  - name: s\n    type: file\n    format: cvs\n    path: x\n"
             "    extra_columns: ignore\n    columns: [{name: a, type: int}]\n"
             "  - {name: t, type: flie, columns: [{name: a, type: int}]}\n"),
      ElementsAre("sluice.yaml:5:13: sources[0].format: unknown value 'cvs' (did you mean 'csv'?)",
                  "sluice.yaml:7:20: sources[0].extra_columns: unknown value 'ignore' (expected "
                  "one of: fail, warn, keep)",
                  "sluice.yaml:9:21: sources[1].type: unknown value 'flie' (did you mean "
                  "'file'?)"));
}

TEST(ProjectLoaderTest, LakeCompressionTakesEachCodec) {
  const std::pair<const char*, LakeCompression> cases[] = {{"zstd", LakeCompression::kZstd},
                                                           {"lz4", LakeCompression::kLz4},
                                                           {"snappy", LakeCompression::kSnappy},
                                                           {"none", LakeCompression::kNone}};
  for (const auto& [word, codec] : cases) {
    const ProjectSpec spec =
        Load("name: p\nlake:\n  path: l\n  compression: " + std::string(word) + "\n");
    EXPECT_EQ(spec.lake.compression, codec) << word;
    EXPECT_EQ(spec.lake.path, "l");
    EXPECT_EQ(Name(spec.lake.compression), word);
  }
}

TEST(ProjectLoaderTest, LakeCompressionRejectsOtherWords) {
  // DuckDB's own name for lz4 is not one of sluice's words.
  EXPECT_THAT(Errors("name: p\nlake: {compression: lz4_raw}\n"),
              ElementsAre("sluice.yaml:2:21: lake.compression: unknown value 'lz4_raw' (expected "
                          "one of: zstd, lz4, snappy, none)"));
  EXPECT_THAT(Errors("name: p\nlake:\n  compression: snapy\n"),
              ElementsAre("sluice.yaml:3:16: lake.compression: unknown value 'snapy' (did you "
                          "mean 'snappy'?)"));
  EXPECT_THAT(Errors("name: p\nlake: {compression: [zstd]}\n"), SizeIs(1));
}

TEST(ProjectLoaderTest, InvalidDurationsTimestampsAndTypes) {
  EXPECT_THAT(
      Errors(
          "name: p\n"
          "sources:\n"
          "  - {name: s, type: file, format: csv, path: x, columns: [{name: a, type: strng}]}\n"
          "feature_views:\n"
          "  - {name: v, entity: e, source: s, ttl: 30 days,\n"
          "     aggregations: [{name: c, function: count, window: forever}]}\n"
          "training_sets:\n"
          "  - {name: t, spine: s, timestamp: a, keys: [a], features: [v], start: 2024-13-01}\n"),
      ElementsAre(
          "sluice.yaml:3:75: sources[0].columns[0].type: unknown type 'strng' (expected bool, "
          "int64, double, string, timestamp or date)",
          "sluice.yaml:5:23: feature_views[0].entity: unknown entity 'e'",
          "sluice.yaml:5:42: feature_views[0].ttl: invalid duration '30 days': unknown unit ' "
          "days' (expected e.g. 250ms, 30s, 15m, 1h, 7d; units us, ms, s, m, h, d, w)",
          "sluice.yaml:6:20: feature_views[0].aggregations: aggregations need an event time: set "
          "event_time on source 's' or on this feature view",
          "sluice.yaml:6:56: feature_views[0].aggregations[0].window: invalid duration "
          "'forever': expected a number at position 1 (expected e.g. 250ms, 30s, 15m, 1h, 7d; "
          "units us, ms, s, m, h, d, w) or 'lifetime'",
          "sluice.yaml:8:72: training_sets[0].start: invalid timestamp '2024-13-01': month 13 is "
          "out of range 1-12 (expected ISO-8601, e.g. 2024-03-01T12:00:00Z or 2024-03-01 "
          "12:00:00.5+02:00)"));
}

TEST(ProjectLoaderTest, DuplicateNamesPointAtTheFirstDefinition) {
  EXPECT_THAT(
      Errors("name: p\n"
             "sources:\n"
             "  - {name: s, type: file, format: csv, path: x,\n"
             "     columns: [{name: a, type: int}, {name: a, type: int}]}\n"
             "  - {name: s, type: file, format: jsonl, path: y, columns: [{name: b, type: int}]}\n"
             "entities: [{name: e, keys: [a, a]}]\n"
             "feature_views:\n"
             "  - {name: x, entity: e, source: s}\n"
             "  - {name: x, entity: e, source: s,\n"
             "     columns: [{name: a, expr: '1'}], derived: [{name: a, expr: '2'}]}\n"),
      ElementsAre("sluice.yaml:4:45: sources[0].columns[1].name: duplicate column 'a' (first "
                  "defined at sluice.yaml:4:23)",
                  "sluice.yaml:5:12: sources[1].name: duplicate source 's' (first defined at "
                  "sluice.yaml:3:12)",
                  "sluice.yaml:6:32: entities[0].keys[1]: duplicate entry 'a'",
                  "sluice.yaml:9:12: feature_views[1].name: duplicate feature view 'x' (first "
                  "defined at sluice.yaml:8:12)",
                  "sluice.yaml:10:56: feature_views[1].derived[0].name: duplicate feature 'a' in "
                  "feature view 'x' (first defined at sluice.yaml:10:23)"));
}

TEST(ProjectLoaderTest, InvalidNames) {
  EXPECT_THAT(Errors("name: Fraud-Detection\nentities:\n  - {name: 1user, keys: [User]}\n"),
              ElementsAre("sluice.yaml:1:7: name: invalid name 'Fraud-Detection' (names must "
                          "match [a-z_][a-z0-9_]*)",
                          "sluice.yaml:3:12: entities[0].name: invalid name '1user' (names must "
                          "match [a-z_][a-z0-9_]*)",
                          "sluice.yaml:3:26: entities[0].keys[0]: invalid name 'User' (names must "
                          "match [a-z_][a-z0-9_]*)"));
  EXPECT_TRUE(IsValidName("_a1"));
  EXPECT_FALSE(IsValidName(""));
  EXPECT_FALSE(IsValidName("a.b"));
}

TEST(ProjectLoaderTest, FeatureViewReferences) {
  EXPECT_THAT(
      ErrorsWithBase("feature_views:\n"
                     "  - {name: a, entity: usr, source: txn}\n"
                     "  - name: b\n"
                     "    entity: card\n"
                     "    source: txns\n"
                     "    columns: [{name: usd, expr: amount}]\n"
                     "    aggregations:\n"
                     "      - {name: s1, function: sum, column: usd, window: 1h}\n"
                     "      - {name: s2, function: sum, column: amout, window: 1h}\n"
                     "      - {name: s3, function: mean, window: 1h}\n"
                     "      - {name: s4, function: medain, column: amount, window: 1h}\n"
                     "    transforms:\n"
                     "      - {feature: s5, type: zscore, fit_on: nope}\n"
                     "    defaults: {s1: 0, zz: 1}\n"),
      ElementsAre(
          "sluice.yaml:17:23: feature_views[0].entity: unknown entity 'usr' (did you mean 'user'?)",
          "sluice.yaml:17:36: feature_views[0].source: unknown source or model 'txn' (did you "
          "mean 'txns'?)",
          "sluice.yaml:19:13: feature_views[1].entity: key 'card_id' of entity 'card' is not a "
          "column of source 'txns'",
          "sluice.yaml:24:43: feature_views[1].aggregations[1].column: unknown column 'amout' "
          "(did you mean 'amount'?)",
          "sluice.yaml:25:9: feature_views[1].aggregations[2].column: missing required key "
          "'column' for function mean",
          "sluice.yaml:26:30: feature_views[1].aggregations[3].function: unknown value 'medain' "
          "(did you mean 'mean'?)",
          "sluice.yaml:28:19: feature_views[1].transforms[0].feature: unknown feature of view "
          "'b': 's5' (did you mean 's1'?)",
          "sluice.yaml:28:45: feature_views[1].transforms[0].fit_on: unknown training set 'nope'",
          "sluice.yaml:29:23: feature_views[1].defaults.zz: unknown feature 'zz'"));
}

// A default of the wrong type used to pass `check` and abort `sluice get`; where the project
// file tells the feature's type, check rejects it with its location.
TEST(ProjectLoaderTest, DefaultsMustHaveTheFeaturesType) {
  EXPECT_THAT(
      ErrorsWithBase("feature_views:\n"
                     "  - name: v\n"
                     "    entity: user\n"
                     "    source: txns\n"
                     "    columns: [{name: usd, expr: amount}]\n"
                     "    aggregations:\n"
                     "      - {name: n, function: count, window: 1h}\n"
                     "      - {name: total, function: sum, column: amount, window: 1h}\n"
                     "      - {name: last_m, function: last, column: merchant, window: 1h}\n"
                     "      - {name: big, function: count, window: 1h}\n"
                     "      - {name: s_usd, function: max, column: usd, window: 1h}\n"
                     "    defaults: {n: abc, total: 1.5x, last_m: anything, big: "
                     "99999999999999999999999, s_usd: what}\n"),
      ElementsAre("sluice.yaml:27:16: feature_views[0].defaults.n: 'abc' is not an integer, and "
                  "feature 'n' (count) is int64",
                  "sluice.yaml:27:24: feature_views[0].defaults.total: '1.5x' is not a number, "
                  "and feature 'total' (sum) is double",
                  "sluice.yaml:27:55: feature_views[0].defaults.big: "
                  "'99999999999999999999999' is out of the int64 range, and feature 'big' "
                  "(count) is int64"));
  EXPECT_THAT(ErrorsWithBase("feature_views:\n"
                             "  - name: v\n"
                             "    entity: user\n"
                             "    source: txns\n"
                             "    aggregations: [{name: n, function: count, window: 1h}, {name: m, "
                             "function: mean, column: amount, window: 1h}]\n"
                             "    defaults: {n: -3, m: 2.5e3}\n"),
              testing::IsEmpty());
}

TEST(ProjectLoaderTest, FeatureViewSemantics) {
  EXPECT_THAT(
      Errors("name: p\n"
             "entities: [{name: user, keys: [user_id]}]\n"
             "sources:\n"
             "  - {name: s, type: file, format: csv, path: x, event_time: id,\n"
             "     columns: [{name: id, type: int}, {name: user_id, type: string}]}\n"
             "feature_views:\n"
             "  - name: v\n"
             "    entity: user\n"
             "    source: s\n"
             "    tile: 1m\n"
             "    aggregations:\n"
             "      - {name: a, function: sum, column: user_id, window: 90s}\n"
             "      - {name: b, function: last_k, column: id, window: lifetime}\n"
             "      - {name: c, function: count, window: 1h, k: 2}\n"
             "      - {name: d, function: count, window: 0s}\n"),
      ElementsAre("sluice.yaml:4:61: sources[0].event_time: event_time column 'id' must be a "
                  "timestamp or date, not int64",
                  "sluice.yaml:12:42: feature_views[0].aggregations[0].column: sum needs a "
                  "numeric column; 'user_id' is string",
                  "sluice.yaml:12:59: feature_views[0].aggregations[0].window: window 1m30s is "
                  "not a multiple of the view's tile 1m",
                  "sluice.yaml:13:9: feature_views[0].aggregations[1].k: missing required key "
                  "'k' for function last_k",
                  "sluice.yaml:14:51: feature_views[0].aggregations[2].k: key 'k' only applies "
                  "to function last_k",
                  "sluice.yaml:15:44: feature_views[0].aggregations[3].window: must be a "
                  "positive duration or 'lifetime'"));
}

TEST(ProjectLoaderTest, TransformRules) {
  EXPECT_THAT(
      ErrorsWithBase(
          "feature_views:\n"
          "  - name: v\n"
          "    entity: user\n"
          "    source: txns\n"
          "    aggregations: [{name: a, function: count, window: 1h}]\n"
          "    transforms:\n"
          "      - {feature: a, type: impute, fit_on: t}\n"
          "      - {feature: a, type: clip, lower_quantile: 0.9, upper_quantile: 0.1, fit_on: t}\n"
          "      - {feature: a, type: minmax, strategy: mean}\n"
          "      - {feature: a, type: impute, strategy: constant}\n"
          "      - {feature: a, type: minmax, fit_on: t2}\n"
          "training_sets:\n"
          "  - {name: t, spine: txns, timestamp: ts, keys: [user_id], features: [v]}\n"
          "  - {name: t2, spine: txns, timestamp: ts, keys: [user_id], features: [v2]}\n"
          "  - {name: v2, spine_path: s.csv, timestamp: ts, keys: [user_id], features: [v:a]}\n"),
      ElementsAre(
          "sluice.yaml:22:9: feature_views[0].transforms[0].strategy: missing required key "
          "'strategy' for impute transforms",
          "sluice.yaml:23:71: feature_views[0].transforms[1].upper_quantile: must be greater "
          "than lower_quantile",
          "sluice.yaml:24:9: feature_views[0].transforms[2].fit_on: missing required key "
          "'fit_on' for minmax transforms",
          "sluice.yaml:24:46: feature_views[0].transforms[2].strategy: key 'strategy' does not "
          "apply to minmax transforms",
          "sluice.yaml:25:9: feature_views[0].transforms[3].value: missing required key 'value' "
          "for impute with strategy constant",
          "sluice.yaml:26:44: feature_views[0].transforms[4].fit_on: training set 't2' does not "
          "include feature 'v:a'",
          "sluice.yaml:29:72: training_sets[1].features[0]: unknown feature view 'v2' (did you "
          "mean 'v'?)"));
}

TEST(ProjectLoaderTest, TrainingSetAndServiceReferences) {
  EXPECT_THAT(
      ErrorsWithBase(
          "feature_views:\n"
          "  - {name: v, entity: user, source: txns, aggregations: [{name: n, function: count, "
          "window: 1h}]}\n"
          "training_sets:\n"
          "  - {name: t, spine: lables, timestamp: ts, keys: [user_id], features: [v, 'v:m', "
          "'x:n', 'v:']}\n"
          "  - {name: u, spine: txns, timestamp: time, keys: [merchant], labels: [fraud], "
          "features: [v]}\n"
          "  - {name: w, timestamp: ts, keys: [user_id], features: [v], start: 2024-02-01, end: "
          "2024-01-01}\n"
          "online_stores:\n  - {name: default, type: redis, path: x}\n"
          "feature_services:\n"
          "  - {name: f, features: ['v:nn'], online_store: defualt}\n"),
      ElementsAre(
          "sluice.yaml:19:22: training_sets[0].spine: unknown source or model 'lables'",
          "sluice.yaml:19:76: training_sets[0].features[1]: feature view 'v' has no feature 'm' "
          "(did you mean 'n'?)",
          "sluice.yaml:19:83: training_sets[0].features[2]: unknown feature view 'x' (did you "
          "mean 'v'?)",
          "sluice.yaml:19:90: training_sets[0].features[3]: invalid feature reference 'v:' "
          "(expected 'view' or 'view:feature')",
          "sluice.yaml:20:39: training_sets[1].timestamp: unknown column of spine 'txns': 'time'",
          "sluice.yaml:20:51: training_sets[1].keys: feature view 'v' is keyed by 'user_id' "
          "(entity 'user'), which is not among the keys",
          "sluice.yaml:20:72: training_sets[1].labels[0]: unknown column of spine 'txns': 'fraud'",
          "sluice.yaml:21:5: training_sets[2].spine: missing required key 'spine' (a source or "
          "model) or 'spine_path' (a file)",
          "sluice.yaml:21:86: training_sets[2].end: must be later than start",
          "sluice.yaml:23:5: online_stores[0].url: missing required key 'url' for redis online "
          "stores",
          "sluice.yaml:23:40: online_stores[0].path: key 'path' does not apply to redis online "
          "stores",
          "sluice.yaml:25:26: feature_services[0].features[0]: feature view 'v' has no feature "
          "'nn' (did you mean 'n'?)",
          "sluice.yaml:25:49: feature_services[0].online_store: unknown online store 'defualt' "
          "(did you mean 'default'?)"));
}

TEST(ProjectLoaderTest, SourceTypeSpecificKeys) {
  EXPECT_THAT(
      Errors(
          "name: p\n"
          "sources:\n"
          "  - {name: f, type: file, format: parquet, path: x, topic: t, csv: {delimiter: ';;'},\n"
          "     columns: [{name: a, type: int}], error_budget: 120%}\n"
          "  - {name: p, type: postgres, table: t, query: q, connection: {dsn: x, host: h},\n"
          "     columns: [{name: a, type: int}], error_budget: lots}\n"
          "  - {name: k, type: kafka, topic: t, brokers: b, format: csv, cursor: a,\n"
          "     columns: [{name: a, type: int}]}\n"
          "  - {name: q, type: postgres, query: q, columns: [{name: a, type: int}]}\n"),
      ElementsAre(
          "sluice.yaml:3:60: sources[0].topic: key 'topic' does not apply to file sources",
          "sluice.yaml:3:68: sources[0].csv: csv options only apply to format csv",
          "sluice.yaml:3:80: sources[0].csv.delimiter: must be exactly one character",
          "sluice.yaml:4:53: sources[0].error_budget: must be between 0 and 1 (0% to 100%)",
          "sluice.yaml:5:48: sources[1].query: set only one of table and query",
          "sluice.yaml:5:69: sources[1].connection.dsn: set either a dsn or "
          "host/port/database/user/password_env, not both",
          "sluice.yaml:6:53: sources[1].error_budget: expected a fraction like 0.01 or a "
          "percentage like 1%, got a string",
          "sluice.yaml:7:58: sources[2].format: kafka sources read JSON messages: format must "
          "be jsonl",
          "sluice.yaml:7:71: sources[2].cursor: key 'cursor' does not apply to kafka sources",
          "sluice.yaml:9:5: sources[3].connection: a postgres source needs a connection: dsn, "
          "dsn_env, or host and database"));
}

TEST(ProjectLoaderTest, WarehouseConnections) {
  EXPECT_THAT(Errors("name: p\nwarehouse: {type: postgres, threads: 2}\n"),
              ElementsAre("sluice.yaml:2:12: warehouse: a postgres warehouse needs a connection: "
                          "dsn, dsn_env, or host and database",
                          "sluice.yaml:2:38: warehouse.threads: key 'threads' does not apply to "
                          "a postgres warehouse"));
  EXPECT_THAT(Errors("name: p\nwarehouse: {type: postgres, host: h, port: 70000}\n"),
              ElementsAre("sluice.yaml:2:12: warehouse.database: missing required key "
                          "'database' (with host)",
                          "sluice.yaml:2:44: warehouse.port: port must be in 1..65535"));
  EXPECT_THAT(Errors("name: p\nwarehouse: {dsn: x}\n"),
              ElementsAre("sluice.yaml:2:18: warehouse.dsn: key 'dsn' does not apply to a duckdb "
                          "warehouse"));
  EXPECT_THAT(Errors("name: p\nwarehouse: {type: postgres, dsn_env: PG, schema: s}\n"), IsEmpty());
}

TEST(ProjectLoaderTest, ModelConfigsAndTests) {
  EXPECT_THAT(
      ErrorsWithBase("models:\n"
                     "  configs:\n"
                     "    - name: m\n"
                     "      materialized: incremental\n"
                     "      tests:\n"
                     "        - {type: accepted_values, column: c}\n"
                     "        - {type: not_null, column: c, sql: 'x'}\n"
                     "        - {type: row_count, min: 5, max: 1}\n"
                     "        - {type: relationships, column: c, to: nowhere, field: f}\n"
                     "        - {type: freshness, column: c}\n"
                     "    - {name: n, unique_key: [a]}\n"),
      ElementsAre(
          "sluice.yaml:18:7: models.configs[0].cursor: missing required key 'cursor' for "
          "incremental models",
          "sluice.yaml:21:11: models.configs[0].tests[0].values: missing required key 'values' "
          "for accepted_values tests",
          "sluice.yaml:22:44: models.configs[0].tests[1].sql: key 'sql' does not apply to "
          "not_null tests",
          "sluice.yaml:23:42: models.configs[0].tests[2].max: must not be less than min",
          "sluice.yaml:24:48: models.configs[0].tests[3].to: unknown source or model 'nowhere'",
          "sluice.yaml:25:11: models.configs[0].tests[4].max_age: missing required key "
          "'max_age' for freshness tests",
          "sluice.yaml:26:29: models.configs[1].unique_key: key 'unique_key' does not apply to "
          "view models (only incremental)"));
}

TEST(ProjectLoaderTest, PipelineStepReferences) {
  EXPECT_THAT(
      ErrorsWithBase("pipelines:\n"
                     "  - name: d\n"
                     "    steps:\n"
                     "      - {name: a, run: ingest, sources: [txn]}\n"
                     "      - {name: b, run: training_set, training_set: t, depends_on: [aa]}\n"
                     "      - {name: c, run: materialize, sources: [txns]}\n"
                     "      - {name: e, run: build, models: [m]}\n"
                     "      - {name: f, run: command}\n"
                     "      - {name: a, run: profile}\n"),
      ElementsAre(
          "sluice.yaml:19:42: pipelines[0].steps[0].sources[0]: unknown source 'txn' (did you "
          "mean 'txns'?)",
          "sluice.yaml:20:52: pipelines[0].steps[1].training_set: unknown training set 't'",
          "sluice.yaml:20:68: pipelines[0].steps[1].depends_on[0]: unknown step in pipeline "
          "'d': 'aa' (did you mean 'a'?)",
          "sluice.yaml:21:9: pipelines[0].steps[2].feature_views: missing required key "
          "'feature_views' for steps with run: materialize",
          "sluice.yaml:21:46: pipelines[0].steps[2].sources: key 'sources' does not apply to "
          "steps with run: materialize",
          "sluice.yaml:22:40: pipelines[0].steps[3].models[0]: unknown model 'm'",
          "sluice.yaml:23:9: pipelines[0].steps[4].command: missing required key 'command' for "
          "steps with run: command",
          "sluice.yaml:24:9: pipelines[0].steps[5].sources: steps with run: profile need "
          "sources, feature_views or a training_set",
          "sluice.yaml:24:16: pipelines[0].steps[5].name: duplicate step 'a' (first defined at "
          "sluice.yaml:19:16)"));
}

TEST(ProjectLoaderTest, StepDependencyCycles) {
  EXPECT_THAT(
      ErrorsWithBase("pipelines:\n"
                     "  - name: d\n"
                     "    steps:\n"
                     "      - {name: a, run: build, depends_on: [c]}\n"
                     "      - {name: b, run: build, depends_on: [a]}\n"
                     "      - {name: c, run: build, depends_on: [b]}\n"
                     "      - {name: s, run: build, depends_on: [s]}\n"
                     "      - {name: z, run: build, depends_on: [a, c]}\n"),
      ElementsAre("sluice.yaml:20:44: pipelines[0].steps[1].depends_on[0]: cycle in the steps of "
                  "pipeline 'd': a -> c -> b -> a",
                  "sluice.yaml:22:44: pipelines[0].steps[3].depends_on[0]: cycle in the steps of "
                  "pipeline 'd': s -> s"));
}

TEST(ProjectLoaderTest, Schedules) {
  auto errors = [](std::string_view schedule) {
    return Errors("name: p\npipelines:\n  - name: d\n    schedule: \"" + std::string(schedule) +
                  "\"\n    steps: [{name: a, run: build}]\n");
  };
  for (auto ok : {"@hourly", "@daily", "@every 15m", "90s", "*/5 * * * *", "0 2 1,15 1-6 0-5",
                  "30 2 * * 1-5/2", "0 9 * jan-mar MON-fri", "5/15 * * * *"}) {
    EXPECT_THAT(errors(ok), IsEmpty()) << ok;
  }
  EXPECT_THAT(errors("@hourli"),
              ElementsAre("sluice.yaml:4:15: pipelines[0].schedule: invalid schedule '@hourli': "
                          "expected one of @hourly, @daily, @weekly, @monthly, @yearly, "
                          "@annually, @midnight or '@every <duration>' (did you mean '@hourly'?)"));
  EXPECT_THAT(errors("0 24 * * *"),
              ElementsAre("sluice.yaml:4:15: pipelines[0].schedule: invalid schedule '0 24 * * "
                          "*': bad hour field '24' (values 0-23)"));
  EXPECT_THAT(errors("* * *"),
              ElementsAre("sluice.yaml:4:15: pipelines[0].schedule: invalid schedule '* * *': a "
                          "cron line has 5 fields (minute hour day-of-month month day-of-week), "
                          "got 3"));
  EXPECT_THAT(errors("0 0 * foo *"),
              ElementsAre("sluice.yaml:4:15: pipelines[0].schedule: invalid schedule '0 0 * foo "
                          "*': bad month field 'foo' (values 1-12, or names)"));
  EXPECT_THAT(errors("*/0 * * * *"),
              ElementsAre("sluice.yaml:4:15: pipelines[0].schedule: invalid schedule '*/0 * * * "
                          "*': bad minute field '*/0' (values 0-59)"));
  EXPECT_THAT(errors("soon"),
              ElementsAre("sluice.yaml:4:15: pipelines[0].schedule: invalid schedule 'soon': "
                          "expected a duration, '@hourly'-style macro or 5-field cron line"));
}

TEST(ProjectLoaderTest, PipelineOrchestrationKeys) {
  EXPECT_THAT(Errors("name: p\n"
                     "sources: [{name: tx, type: file, path: a.csv, format: csv, columns: [{name: "
                     "a, type: string}]}]\n"
                     "pipelines:\n"
                     "  - name: d\n"
                     "    schedule: '@daily'\n"
                     "    timezone: Europe/Berlin\n"
                     "    catchup: all\n"
                     "    max_active_runs: 2\n"
                     "    concurrency: 8\n"
                     "    retry_backoff_max: 1h\n"
                     "    partition: day\n"
                     "    on_new_version: [tx]\n"
                     "    steps: [{name: a, run: command, command: 'true', retry_backoff: 5s}]\n"),
              IsEmpty());
  EXPECT_THAT(
      Errors("name: p\n"
             "sources: [{name: tx, type: file, path: a.csv, format: csv, columns: [{name: a, type: "
             "string}]}]\n"
             "pipelines:\n"
             "  - name: d\n"
             "    timezone: ../etc/passwd\n"
             "    catchup: lates\n"
             "    max_active_runs: 0\n"
             "    concurrency: 0\n"
             "    partition: week\n"
             "    on_new_version: [txx]\n"
             "    steps: [{name: a, run: command, command: 'true', retry_backoff: -5s}]\n"),
      ElementsAre(
          "sluice.yaml:5:15: pipelines[0].timezone: invalid time zone name '../etc/passwd' "
          "(expected an IANA name such as 'Europe/Berlin' or 'UTC')",
          "sluice.yaml:5:15: pipelines[0].timezone: a timezone needs a schedule",
          "sluice.yaml:6:14: pipelines[0].catchup: expected one of none, latest, all, got "
          "'lates' (did you mean 'latest'?)",
          "sluice.yaml:7:22: pipelines[0].max_active_runs: must be at least 1",
          "sluice.yaml:8:18: pipelines[0].concurrency: must be 1 to 256",
          "sluice.yaml:9:16: pipelines[0].partition: expected one of hour, day, got 'week'",
          "sluice.yaml:10:22: pipelines[0].on_new_version[0]: unknown source 'txx' (did you "
          "mean 'tx'?)",
          "sluice.yaml:11:69: pipelines[0].steps[0].retry_backoff: invalid duration '-5s': "
          "negative durations are not allowed (expected e.g. 250ms, 30s, 15m, 1h, 7d; units "
          "us, ms, s, m, h, d, w)"));
}

TEST(ProjectLoaderTest, IncludedFilesAreMergedAndChecked) {
  TempProject project({
      {"sluice.yaml",
       "name: p\ninclude: [sources.yaml, 'views/*.yaml', missing.yaml]\n"
       "entities: [{name: user, keys: [user_id]}]\n"},
      {"sources.yaml", std::string(kBase.substr(kBase.find("sources:"),
                                                kBase.find("entities:") - kBase.find("sources:")))},
      {"views/a.yaml", "feature_views: [{name: a, entity: user, source: txns}]\n"},
      {"views/b.yaml",
       "feature_views: [{name: a, entity: user, source: txns}]\n"
       "include: [x.yaml]\nname: q\nwarehouse: {}\n"},
      {"views/notes.txt", "not yaml: ["},
  });
  EXPECT_THAT(project.Errors(),
              ElementsAre("sluice.yaml:2:41: include[2]: included file 'missing.yaml' does not "
                          "exist",
                          "views/b.yaml:1:24: feature_views[0].name: duplicate feature view 'a' "
                          "(first defined at views/a.yaml:1:24)",
                          "views/b.yaml:2:10: include: 'include' is only allowed in sluice.yaml "
                          "(included files cannot include others, so include cycles are "
                          "impossible)",
                          "views/b.yaml:3:7: name: 'name' may only be set in sluice.yaml",
                          "views/b.yaml:4:12: warehouse: 'warehouse' may only be set in "
                          "sluice.yaml"));
}

TEST(ProjectLoaderTest, IncludesResolveGlobsAndModelFiles) {
  TempProject project({
      {"sluice.yaml",
       "name: p\ninclude: ['*.yaml', 'none/*.yaml', '../up.yaml']\n"
       "models: {configs: [{name: daily}, {name: weekly}]}\n"
       "pipelines: [{name: d, steps: [{name: b, run: build, models: [daily, monthly]}]}]\n"},
      {"more.yaml", "models: {dir: sql}\n"},
      {"sql/daily.sql", "SELECT 1"},
      {"sql/monthly.sql", "SELECT 1"},
      {"models/weekly.sql", "SELECT 1"},
  });
  EXPECT_THAT(project.Errors(),
              ElementsAre("sluice.yaml:2:21: include[1]: include 'none/*.yaml' matches no files",
                          "sluice.yaml:2:36: include[2]: include '../up.yaml' must be a relative "
                          "path inside the project",
                          "sluice.yaml:3:42: models.configs[1].name: no file sql/weekly.sql for "
                          "this model config"));
}

TEST(ProjectLoaderTest, SyntaxErrorInAnIncludedFileSkipsCrossChecks) {
  TempProject project({
      {"sluice.yaml",
       "name: p\ninclude: [a.yaml, b.yaml]\n"
       "training_sets: [{name: t, spine: s, timestamp: ts, keys: [k], features: [v]}]\n"},
      {"a.yaml", "feature_views: [{name: v\n"},
      {"b.yaml", "entities: [{name: e, keys: [k], kyes: [x]}]\n"},
  });
  EXPECT_THAT(project.Errors(),
              ElementsAre("a.yaml:2:1: YAML syntax error: end of map flow not found",
                          "b.yaml:1:33: entities[0].kyes: unknown key 'kyes' (did you mean "
                          "'keys'?)"));
}

TEST(ProjectLoaderTest, MissingProjectIsNotFound) {
  std::vector<Diagnostic> diagnostics;
  auto spec = LoadProject("/nonexistent/sluice_project", &diagnostics);
  EXPECT_EQ(spec.status().code(), base::StatusCode::kNotFound);
  ASSERT_EQ(diagnostics.size(), 1u);
  EXPECT_EQ(diagnostics[0].ToString(),
            "sluice.yaml: no sluice.yaml in /nonexistent/sluice_project");
}

TEST(ProjectLoaderTest, StringLoadRecordsIncludesWithoutReadingThem) {
  const ProjectSpec spec = Load("name: p\ninclude: [a.yaml]\n");
  EXPECT_THAT(spec.includes, ElementsAre("a.yaml"));
  EXPECT_THAT(spec.files, ElementsAre("sluice.yaml"));
}

}  // namespace
}  // namespace sluice::config

namespace sluice::config {
namespace {

TEST(ProjectLoaderKafkaTest, StreamKeysAndDefaults) {
  const ProjectSpec spec = Load(
      "name: shop\n"
      "sources:\n"
      "  - name: tx\n"
      "    type: kafka\n"
      "    topic: transactions\n"
      "    brokers: localhost:9092\n"
      "    start: latest\n"
      "    allowed_lateness: 5s\n"
      "    properties: {security.protocol: SASL_SSL, sasl.password: '${KAFKA_PASSWORD}'}\n"
      "    columns: [{name: a, type: int}]\n"
      "  - {name: ty, type: kafka, topic: t2, brokers: b, group: mine,\n"
      "     columns: [{name: a, type: int}]}\n");
  ASSERT_EQ(spec.sources.size(), 2U);
  const SourceSpec& tx = spec.sources[0];
  EXPECT_EQ(tx.start, KafkaStart::kLatest);
  EXPECT_EQ(tx.allowed_lateness, std::chrono::seconds(5));
  EXPECT_EQ(tx.properties.at("security.protocol"), "SASL_SSL");
  EXPECT_EQ(tx.properties.at("sasl.password"), "${KAFKA_PASSWORD}");
  EXPECT_EQ(tx.ConsumerGroup(spec.name), "sluice.shop.tx");
  const SourceSpec& ty = spec.sources[1];
  EXPECT_EQ(ty.start, KafkaStart::kEarliest);
  EXPECT_EQ(ty.allowed_lateness.count(), 0);
  EXPECT_EQ(ty.ConsumerGroup(spec.name), "mine");
}

TEST(ProjectLoaderKafkaTest, StreamKeyErrors) {
  EXPECT_THAT(
      Errors("name: p\n"
             "sources:\n"
             "  - {name: k, type: kafka, topic: t, brokers: b, start: newest,\n"
             "     allowed_lateness: -5s, properties: {group.id: g, x: '${BAD-NAME}', y: [1]},\n"
             "     columns: [{name: a, type: int}]}\n"
             "  - {name: f, type: file, format: csv, path: x, group: g, allowed_lateness: 1s,\n"
             "     columns: [{name: a, type: int}]}\n"),
      ElementsAre(
          "sluice.yaml:3:57: sources[0].start: unknown value 'newest' (expected one of: "
          "earliest, latest)",
          "sluice.yaml:4:24: sources[0].allowed_lateness: invalid duration '-5s': negative "
          "durations are not allowed (expected e.g. 250ms, 30s, 15m, 1h, 7d; units us, ms, s, m, "
          "h, d, w)",
          "sluice.yaml:4:42: sources[0].properties.group.id: sluice sets 'group.id' itself (use "
          "the source keys brokers, group, start)",
          "sluice.yaml:4:55: sources[0].properties.x: environment references must look like "
          "${NAME} (letters, digits, _)",
          "sluice.yaml:4:76: sources[0].properties.y: expected a scalar, got a list",
          "sluice.yaml:6:56: sources[1].group: key 'group' does not apply to file sources",
          "sluice.yaml:6:77: sources[1].allowed_lateness: key 'allowed_lateness' does not apply "
          "to file sources"));
}

TEST(ProjectLoaderTest, MonitoringSectionIsRead) {
  const ProjectSpec spec = Load(std::string(kBase) + R"yaml(monitoring:
  drift: {method: psi, small_reference_rows: 500, drift_share: 0.3, ks: 0.01, wasserstein: 0.2}
  profile_on_publish: false
  sinks:
    - {name: hook, type: webhook, url: "http://127.0.0.1:9/x", retries: 2, timeout: 3s}
    - {name: logged, type: log}
  monitors:
    - {name: d, type: drift, dataset: txns, reference: "txns[2026-01-01,2026-01-02)", method: ks}
    - {name: m, type: metric, dataset: txns, column: amount, metric: mean, max_zscore: 3,
       window: 5, severity: critical, sinks: [hook]}
)yaml");
  const MonitoringSpec& m = spec.monitoring;
  EXPECT_EQ(m.drift.method, DriftMethod::kPsi);
  EXPECT_EQ(*m.drift.small_reference_rows, 500);
  EXPECT_EQ(*m.drift.drift_share, 0.3);
  EXPECT_EQ(*m.drift.ks, 0.01);
  EXPECT_FALSE(m.drift.chisquare.has_value());
  EXPECT_FALSE(m.profile_on_publish);
  ASSERT_EQ(m.sinks.size(), 2u);
  EXPECT_EQ(m.sinks[0].type, AlertSinkType::kWebhook);
  EXPECT_EQ(m.sinks[0].retries, 2);
  EXPECT_EQ(m.sinks[0].timeout, std::chrono::seconds(3));
  ASSERT_EQ(m.monitors.size(), 2u);
  EXPECT_EQ(*m.monitors[0].method, DriftMethod::kKs);
  EXPECT_EQ(m.monitors[1].type, MonitorType::kMetric);
  EXPECT_EQ(m.monitors[1].window, 5);
  EXPECT_EQ(m.monitors[1].severity, Severity::kCritical);
}

TEST(ProjectLoaderTest, MonitoringErrorsNameTheKey) {
  EXPECT_THAT(ErrorsWithBase("monitoring:\n  drift: {ks: 1.5, methd: ks}\n"),
              ElementsAre("sluice.yaml:17:15: monitoring.drift.ks: must be between 0 and 1",
                          "sluice.yaml:17:20: monitoring.drift.methd: unknown key 'methd' (did "
                          "you mean 'method'?)"));
  EXPECT_THAT(
      ErrorsWithBase("monitoring:\n  sinks:\n    - {name: h, type: webhook}\n  monitors:\n"
                     "    - {name: a, type: metric, dataset: txn, metric: mena, column: amount, "
                     "max: 1, sinks: [hh]}\n"
                     "    - {name: b, type: drift, dataset: txns, metric: mean}\n"),
      ElementsAre(
          "sluice.yaml:18:7: monitoring.sinks[0].url: missing required key 'url' for webhook sinks",
          "sluice.yaml:20:40: monitoring.monitors[0].dataset: unknown dataset 'txn' (did you mean "
          "'txns'?)",
          "sluice.yaml:20:53: monitoring.monitors[0].metric: unknown metric 'mena' (one of rows, "
          "count, nulls, null_share, distinct, mean, stddev, min, max, p1, p5, p25, p50, p75, "
          "p95, p99) (did you mean 'mean'?)",
          "sluice.yaml:20:91: monitoring.monitors[0].sinks[0]: unknown alert sink 'hh' (did you "
          "mean 'h'?)",
          "sluice.yaml:21:7: monitoring.monitors[1].reference: missing required key 'reference' "
          "for drift monitors",
          "sluice.yaml:21:53: monitoring.monitors[1].metric: key 'metric' does not apply to drift "
          "monitors"));
}

TEST(ProjectLoaderTest, MonitorSteps) {
  const ProjectSpec spec = Load(std::string(kBase) + R"yaml(monitoring:
  monitors:
    - {name: rows, type: metric, dataset: txns, metric: rows, min: 1}
pipelines:
  - name: d
    steps:
      - {name: all, run: monitor}
      - {name: some, run: monitor, monitors: [rows], fail_on_alert: true}
)yaml");
  const auto& steps = spec.pipelines[0].steps;
  EXPECT_EQ(steps[0].run, StepKind::kMonitor);
  EXPECT_TRUE(steps[0].monitors.empty());
  EXPECT_FALSE(steps[0].fail_on_alert);
  EXPECT_EQ(steps[1].monitors, (std::vector<std::string>{"rows"}));
  EXPECT_TRUE(steps[1].fail_on_alert);

  EXPECT_THAT(
      ErrorsWithBase("monitoring:\n  monitors:\n"
                     "    - {name: rows, type: metric, dataset: txns, metric: rows, min: 1}\n"
                     "pipelines:\n  - name: d\n    steps:\n"
                     "      - {name: a, run: monitor, monitors: [rowz, rows, rows]}\n"
                     "      - {name: b, run: ingest, sources: [txns], fail_on_alert: true}\n"),
      ElementsAre("sluice.yaml:22:44: pipelines[0].steps[0].monitors[0]: unknown monitor 'rowz' "
                  "(did you mean 'rows'?)",
                  "sluice.yaml:22:56: pipelines[0].steps[0].monitors[2]: duplicate entry 'rows'",
                  "sluice.yaml:23:64: pipelines[0].steps[1].fail_on_alert: key 'fail_on_alert' "
                  "does not apply to steps with run: ingest"));
  // Without declared monitors a monitor step has nothing to run.
  EXPECT_THAT(ErrorsWithBase("pipelines:\n  - name: d\n    steps:\n"
                             "      - {name: a, run: monitor}\n"),
              ElementsAre("sluice.yaml:19:24: pipelines[0].steps[0].run: steps with run: monitor "
                          "run the project's monitors, and monitoring.monitors declares none"));
}

}  // namespace
}  // namespace sluice::config
