#include "models/runner.h"

#include <gtest/gtest.h>

#include <fstream>
#include <random>

#include "config/project_loader.h"
#include "connectors/ingest.h"

namespace sluice::models {
namespace {

namespace fs = std::filesystem;

constexpr const char* kProjectYaml = R"(name: t
sources:
  - name: events
    type: file
    format: csv
    path: data/events.csv
    columns:
      - {name: id, type: int64, nullable: false}
      - {name: user_id, type: int64}
      - {name: kind, type: string}
      - {name: amount, type: double}
      - {name: ts, type: timestamp}
)";

// A project folder with one CSV source, built and tested against an embedded DuckDB file.
class RunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / ("sluice-models-test-" + std::to_string(rd()));
    fs::create_directories(dir_ / "data");
    fs::create_directories(dir_ / "models");
    WriteEvents(1, 10);
  }
  void TearDown() override {
    warehouse_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void Write(const std::string& rel, const std::string& text) {
    std::ofstream(dir_ / rel, std::ios::binary) << text;
  }
  // Rows first..last: user_id = id % 3, kind a/b, amount = id, one hour apart.
  void WriteEvents(int first, int last, bool append = false) {
    std::ofstream out(dir_ / "data/events.csv", append ? std::ios::app : std::ios::trunc);
    if (!append) out << "id,user_id,kind,amount,ts\n";
    for (int i = first; i <= last; ++i) {
      out << i << "," << i % 3 << "," << (i % 2 ? "a" : "b") << "," << i << ".5,2024-01-01T"
          << (i < 10 ? "0" : "") << i % 24 << ":00:00Z\n";
    }
  }
  void Project(const std::string& models_yaml) { Write("sluice.yaml", kProjectYaml + models_yaml); }

  // Loads the project, ingests the source and opens the warehouse (once).
  void Load() {
    std::vector<config::Diagnostic> diagnostics;
    auto spec = config::LoadProject(dir_, &diagnostics);
    ASSERT_TRUE(spec.ok()) << spec.status().ToString()
                           << (diagnostics.empty() ? "" : "\n" + diagnostics[0].ToString());
    spec_ = std::move(spec).value();
    lake_ = std::make_unique<lake::Lake>(dir_ / ".sluice/lake");
    ASSERT_TRUE(lake_->Open().ok());
    if (!registry_) {
      auto r = registry::Registry::Open(dir_ / ".sluice/registry.sqlite");
      ASSERT_TRUE(r.ok());
      registry_ = std::make_unique<registry::Registry>(std::move(r).value());
    }
    connectors::IngestContext ictx{*spec_, *lake_, *registry_, clock_, 1, nullptr};
    auto ingested = connectors::Ingest(*spec_->FindSource("events"), ictx);
    ASSERT_TRUE(ingested.ok()) << ingested.status().ToString();
    source_version_ = ingested->manifest.id;
    if (!warehouse_) {
      auto w = warehouse::OpenWarehouse(spec_->warehouse, dir_);
      ASSERT_TRUE(w.ok()) << w.status().ToString();
      warehouse_ = std::move(w).value();
    }
  }

  base::Result<BuildReport> Build(std::vector<std::string> selectors = {}, int jobs = 2,
                                  bool full_refresh = false, const TemplateValues& values = {}) {
    auto graph = ModelGraph::Load(*spec_);
    if (!graph.ok()) return graph.status();
    ModelsContext ctx{*spec_, *lake_, *registry_, clock_, *warehouse_};
    BuildOptions options;
    options.selectors = std::move(selectors);
    options.jobs = jobs;
    options.full_refresh = full_refresh;
    options.values = values;
    return BuildModels(*graph, ctx, options);
  }

  const ModelOutcome& Outcome(const BuildReport& r, const std::string& model) {
    for (const auto& o : r.models) {
      if (o.model == model) return o;
    }
    static ModelOutcome none;
    ADD_FAILURE() << "no outcome for " << model;
    return none;
  }

  std::int64_t Count(const std::string& sql) {
    auto n = warehouse_->QueryInt64(sql, nullptr);
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.value_or(-1);
  }

  fs::path dir_;
  base::ManualClock clock_{base::ProcessingTime(std::chrono::seconds(1'717'200'000))};
  std::optional<config::ProjectSpec> spec_;
  std::unique_ptr<lake::Lake> lake_;
  std::unique_ptr<registry::Registry> registry_;
  std::unique_ptr<warehouse::Warehouse> warehouse_;
  std::string source_version_;
};

TEST_F(RunnerTest, BuildsInOrderPublishesVersionsAndSkipsUnchangedWork) {
  Project(R"(models:
  configs:
    - {name: per_user, materialized: table}
    - {name: top_users, materialized: table}
)");
  Write("models/per_user.sql",
        "SELECT user_id, count(*) AS n, sum(amount) AS total\nFROM {{ source('events') }}\n"
        "GROUP BY user_id;\n");
  Write("models/big.sql", "SELECT * FROM {{ ref('per_user') }} WHERE total > 10");
  Write("models/top_users.sql", "SELECT user_id FROM {{ ref('big') }} ORDER BY total DESC LIMIT 2");
  Load();
  auto r = Build();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(r->ok());
  ASSERT_EQ(r->models.size(), 3u);
  // Completion order follows dependencies.
  EXPECT_EQ(r->models[0].model, "per_user");
  EXPECT_EQ(r->models[1].model, "big");
  EXPECT_EQ(r->models[2].model, "top_users");
  const ModelOutcome& per_user = Outcome(*r, "per_user");
  EXPECT_EQ(per_user.status, ModelStatus::kBuilt);
  EXPECT_EQ(per_user.rows, 3);
  EXPECT_TRUE(per_user.new_version);
  EXPECT_EQ(per_user.parents, (std::vector<std::string>{source_version_}));

  // The table is a lake dataset version naming its input and definition.
  auto version = lake_->Current("per_user");
  ASSERT_TRUE(version.ok() && version->has_value());
  EXPECT_EQ((*version)->id, per_user.version);
  EXPECT_EQ((*version)->kind, "model");
  EXPECT_EQ((*version)->parents, (std::vector<std::string>{source_version_}));
  EXPECT_EQ((*version)->definition_hash,
            DefinitionHash(*ModelGraph::Load(*spec_), *ModelGraph::Load(*spec_)->Find("per_user")));
  EXPECT_EQ((*version)->rows.loaded, 3);
  EXPECT_EQ((*version)->schema.ToString().find("user_id int64"), 0u);
  // A table read through a view: the view passes its input on, so lineage has no gap.
  const ModelOutcome& top = Outcome(*r, "top_users");
  EXPECT_EQ(top.parents, (std::vector<std::string>{per_user.version}));
  EXPECT_EQ(Outcome(*r, "big").status, ModelStatus::kBuilt);
  EXPECT_EQ(Count("SELECT count(*) FROM big"), 3);  // totals 16.5, 19.5, 24

  // Lineage: raw file -> source version -> model version.
  auto edges = registry_->Lineage(per_user.version);
  ASSERT_TRUE(edges.ok());
  bool from_source = false;
  for (const auto& e : *edges)
    from_source |= e.from == source_version_ && e.to == per_user.version;
  EXPECT_TRUE(from_source);

  // Same inputs, same SQL: nothing is done.
  auto again = Build();
  ASSERT_TRUE(again.ok());
  for (const auto& o : again->models)
    EXPECT_EQ(o.status, ModelStatus::kUnchanged) << o.model;
  EXPECT_EQ(Outcome(*again, "per_user").version, per_user.version);

  // Changing a view's SQL rebuilds it and the table reading through it, not its input.
  Write("models/big.sql", "SELECT * FROM {{ ref('per_user') }} WHERE total > 20");
  Load();
  auto changed = Build();
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(Outcome(*changed, "per_user").status, ModelStatus::kUnchanged);
  EXPECT_EQ(Outcome(*changed, "big").status, ModelStatus::kBuilt);
  EXPECT_EQ(Outcome(*changed, "top_users").status, ModelStatus::kBuilt);

  // New source data: everything downstream of it is rebuilt, with the new version as parent.
  WriteEvents(11, 12, /*append=*/true);
  Load();
  auto fresh = Build();
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(Outcome(*fresh, "per_user").status, ModelStatus::kBuilt);
  EXPECT_EQ(Outcome(*fresh, "per_user").parents, (std::vector<std::string>{source_version_}));
  auto history = lake_->History("per_user");
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->size(), 2u);
}

TEST_F(RunnerTest, SameRowsGiveTheSameVersionOnARebuildFromScratch) {
  Project("models:\n  configs:\n    - {name: m, materialized: table}\n");
  Write("models/m.sql", "SELECT id, kind FROM {{ source('events') }}");
  Load();
  auto first = Build();
  ASSERT_TRUE(first.ok() && first->ok());
  auto full = Build({}, 1, /*full_refresh=*/true);
  ASSERT_TRUE(full.ok() && full->ok());
  EXPECT_EQ(Outcome(*full, "m").status, ModelStatus::kBuilt);
  EXPECT_EQ(Outcome(*full, "m").version, Outcome(*first, "m").version);
  EXPECT_FALSE(Outcome(*full, "m").new_version);
}

TEST_F(RunnerTest, IncrementalModelsAppendOrMergeNewRowsByCursor) {
  Project(R"(models:
  configs:
    - {name: appended, materialized: incremental, cursor: id}
    - {name: merged, materialized: incremental, cursor: day, unique_key: [user_id, day]}
)");
  Write("models/appended.sql", "SELECT id, amount FROM {{ source('events') }}");
  Write("models/merged.sql",
        "SELECT user_id, CAST(id / 4 AS BIGINT) AS day, count(*) AS n\n"
        "FROM {{ source('events') }} GROUP BY user_id, CAST(id / 4 AS BIGINT)");
  Load();
  auto first = Build();
  ASSERT_TRUE(first.ok() && first->ok()) << (first.ok() ? first->models[0].error : "");
  EXPECT_EQ(Outcome(*first, "appended").rows, 10);
  EXPECT_EQ(Outcome(*first, "appended").new_rows, -1);  // first build: full
  const std::string v1 = Outcome(*first, "appended").version;

  WriteEvents(11, 15, /*append=*/true);
  Load();
  auto second = Build();
  ASSERT_TRUE(second.ok() && second->ok());
  const ModelOutcome& appended = Outcome(*second, "appended");
  EXPECT_EQ(appended.new_rows, 5);
  EXPECT_EQ(appended.rows, 15);
  EXPECT_EQ(appended.previous_version, v1);
  EXPECT_EQ(Count("SELECT count(DISTINCT id) FROM appended"), 15);
  // day = id / 4 (integer division in DuckDB's CAST rounds): rows with day above the table's
  // maximum are merged in by (user_id, day); earlier days are left alone.
  const ModelOutcome& merged = Outcome(*second, "merged");
  EXPECT_GE(merged.new_rows, 1);
  EXPECT_EQ(Count("SELECT count(*) FROM (SELECT user_id, day FROM merged GROUP BY ALL HAVING "
                  "count(*) > 1)"),
            0);
  // The previous version is linked in the lineage.
  auto edges = registry_->Lineage(appended.version);
  ASSERT_TRUE(edges.ok());
  bool from_previous = false;
  for (const auto& e : *edges)
    from_previous |= e.from == v1;
  EXPECT_TRUE(from_previous);
  // Unchanged inputs: no new rows, nothing done.
  auto third = Build();
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(Outcome(*third, "appended").status, ModelStatus::kUnchanged);
}

TEST_F(RunnerTest, FailingTestsRollBackAndStopDownstreamModels) {
  Project(R"(models:
  configs:
    - name: base
      materialized: table
      tests:
        - {type: not_null, column: user_id}
        - {type: unique, column: kind}
        - {type: accepted_values, column: kind, values: [a]}
        - {type: row_count, min: 1, max: 100}
        - {type: sql, sql: "SELECT * FROM {{ this }} WHERE amount < 0"}
    - {name: downstream, materialized: table}
)");
  Write("models/base.sql", "SELECT * FROM {{ source('events') }}");
  Write("models/downstream.sql", "SELECT count(*) AS n FROM {{ ref('base') }}");
  Write("models/independent.sql", "SELECT 1 AS x");
  Load();
  auto r = Build();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->ok());
  const ModelOutcome& base = Outcome(*r, "base");
  EXPECT_EQ(base.status, ModelStatus::kFailed);
  EXPECT_NE(base.error.find("models/base.sql: model 'base': 2 of 5 tests failed: unique(kind), "
                            "accepted_values(kind)"),
            std::string::npos)
      << base.error;
  ASSERT_EQ(base.tests.size(), 5u);
  EXPECT_TRUE(base.tests[0].passed);
  EXPECT_FALSE(base.tests[1].passed);
  EXPECT_EQ(base.tests[1].failing_rows, 2);  // kinds a and b are both repeated
  EXPECT_FALSE(base.tests[2].passed);
  EXPECT_EQ(base.tests[2].failing_rows, 5);
  ASSERT_EQ(base.tests[2].sample.rows.size(), kFailingRowSamples);
  EXPECT_NE(FormatRows(base.tests[2].sample)[0].find("kind=b"), std::string::npos);
  EXPECT_EQ(base.tests[2].where, "sluice.yaml:20:11");
  EXPECT_TRUE(base.tests[3].passed);
  EXPECT_TRUE(base.tests[4].passed);
  EXPECT_EQ(Outcome(*r, "downstream").status, ModelStatus::kSkipped);
  EXPECT_EQ(Outcome(*r, "downstream").upstream, "base");
  EXPECT_EQ(Outcome(*r, "independent").status, ModelStatus::kBuilt);
  // Rolled back: neither the warehouse nor the lake has the failing table.
  EXPECT_EQ(*warehouse_->Relation("base"), warehouse::RelationKind::kNone);
  EXPECT_FALSE(lake_->Current("base")->has_value());
  auto runs = registry_->Runs("downstream");
  ASSERT_TRUE(runs.ok() && !runs->empty());
  EXPECT_EQ((*runs)[0].status, "skipped");
}

TEST_F(RunnerTest, WarehouseErrorsPointIntoTheModelFile) {
  Project("models:\n  configs:\n    - {name: broken, materialized: table}\n");
  Write("models/broken.sql",
        "-- a comment line\nSELECT user_id,\n       sum(amountx) AS total\nFROM "
        "{{ source('events') }}\nGROUP BY user_id\n");
  Write("models/syntax.sql", "SELECT id\nFROM {{ source('events') }}\nWHERE id = = 1\n");
  Load();
  auto r = Build();
  ASSERT_TRUE(r.ok());
  const ModelOutcome& broken = Outcome(*r, "broken");
  EXPECT_EQ(broken.status, ModelStatus::kFailed);
  EXPECT_EQ(broken.error.find("models/broken.sql:3:12: model 'broken': Binder Error: "
                              "Referenced column \"amountx\" not found"),
            0u)
      << broken.error;
  EXPECT_NE(broken.error.find("  3 |        sum(amountx) AS total\n    |            ^"),
            std::string::npos)
      << broken.error;
  EXPECT_EQ(broken.error.find("LINE "), std::string::npos);
  const ModelOutcome& syntax = Outcome(*r, "syntax");
  EXPECT_EQ(syntax.error.find("models/syntax.sql:3:12: model 'syntax': Parser Error: syntax error"),
            0u)
      << syntax.error;
}

TEST_F(RunnerTest, FreshnessIsJudgedAgainstTheInjectedClock) {
  Project(R"(models:
  configs:
    - name: latest
      materialized: table
      tests:
        - {type: freshness, column: ts, max_age: 2d}
)");
  Write("models/latest.sql", "SELECT max(ts) AS ts FROM {{ source('events') }}");
  Load();
  // The newest event is at 2024-01-01 10:00; at 2024-01-02 it is fresh, at 2024-01-05 not.
  clock_.Set(base::ProcessingTime(std::chrono::seconds(1'704'153'600)));  // 2024-01-02
  auto fresh = Build();
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(Outcome(*fresh, "latest").status, ModelStatus::kBuilt)
      << Outcome(*fresh, "latest").error;
  clock_.Set(base::ProcessingTime(std::chrono::seconds(1'704'412'800)));  // 2024-01-05
  auto graph = ModelGraph::Load(*spec_);
  ASSERT_TRUE(graph.ok());
  ModelsContext ctx{*spec_, *lake_, *registry_, clock_, *warehouse_};
  auto tested = TestModels(*graph, ctx, {"latest"}, nullptr);
  ASSERT_TRUE(tested.ok()) << tested.status().ToString();
  const ModelOutcome& stale = Outcome(*tested, "latest");
  EXPECT_EQ(stale.status, ModelStatus::kFailed);
  ASSERT_EQ(stale.tests.size(), 1u);
  EXPECT_EQ(stale.tests[0].name, "freshness(ts, 2d)");
  EXPECT_NE(FormatRows(stale.tests[0].sample)[0].find(
                "latest=2024-01-01 10:00:00, oldest_allowed=2024-01-03 00:00:00"),
            std::string::npos)
      << FormatRows(stale.tests[0].sample)[0];
}

TEST_F(RunnerTest, SelectionNeedsUpstreamModelsBuiltOrSelected) {
  Project("models:\n  configs:\n    - {name: a, materialized: table}\n");
  Write("models/a.sql", "SELECT id FROM {{ source('events') }}");
  Write("models/b.sql", "SELECT * FROM {{ ref('a') }}");
  Load();
  auto alone = Build({"b"});
  ASSERT_FALSE(alone.ok());
  EXPECT_NE(alone.status().message().find("model 'b' reads model 'a', which has not been built"),
            std::string::npos)
      << alone.status().ToString();
  EXPECT_NE(alone.status().message().find("sluice build +b"), std::string::npos);
  auto with_upstream = Build({"+b"});
  ASSERT_TRUE(with_upstream.ok() && with_upstream->ok());
  EXPECT_EQ(with_upstream->models.size(), 2u);
  auto b_only = Build({"b"});
  ASSERT_TRUE(b_only.ok() && b_only->ok());
  ASSERT_EQ(b_only->models.size(), 1u);
  EXPECT_EQ(b_only->models[0].status, ModelStatus::kUnchanged);
  EXPECT_EQ(b_only->models[0].parents,
            (std::vector<std::string>{Outcome(*with_upstream, "a").version}));
}

TEST_F(RunnerTest, IndependentModelsBuildInParallelSessions) {
  std::string yaml = "models:\n  configs:\n";
  for (int i = 0; i < 6; ++i) {
    yaml += "    - {name: m" + std::to_string(i) + ", materialized: table}\n";
    Write("models/m" + std::to_string(i) + ".sql",
          "SELECT id, id * " + std::to_string(i) + " AS x FROM {{ source('events') }}");
  }
  Project(yaml);
  Load();
  auto r = Build({}, 3);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->ok());
  EXPECT_EQ(r->Count(ModelStatus::kBuilt), 6);
  for (int i = 0; i < 6; ++i) {
    EXPECT_EQ(Count("SELECT count(*) FROM m" + std::to_string(i)), 10);
  }
}

TEST_F(RunnerTest, MissingSourceVersionIsAClearError) {
  Project("");
  Write("models/a.sql", "SELECT id FROM {{ source('events') }}");
  std::vector<config::Diagnostic> diagnostics;
  auto spec = config::LoadProject(dir_, &diagnostics);
  ASSERT_TRUE(spec.ok());
  spec_ = std::move(spec).value();
  lake_ = std::make_unique<lake::Lake>(dir_ / ".sluice/lake");
  ASSERT_TRUE(lake_->Open().ok());
  registry_ = std::make_unique<registry::Registry>(
      std::move(registry::Registry::Open(dir_ / ".sluice/registry.sqlite")).value());
  warehouse_ = std::move(warehouse::OpenWarehouse(spec_->warehouse, dir_)).value();
  auto r = Build();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("model 'a' reads source 'events', which has no version in "
                                      "the lake yet; run `sluice ingest events` first"),
            std::string::npos)
      << r.status().ToString();
}

// Hours [from, to) of 2024-01-01 and var drop_kind.
TemplateValues Hours(int from, int to, const std::string& drop_kind) {
  TemplateValues v;
  const base::ProcessingTime day(std::chrono::hours(24 * 19'723));
  v.interval_start = day + std::chrono::hours(from);
  v.interval_end = day + std::chrono::hours(to);
  v.vars["drop_kind"] = drop_kind;
  return v;
}

TEST_F(RunnerTest, IntervalAndVarsFilterRowsAndNameTheVersion) {
  Project(R"(models:
  configs:
    - {name: hourly, materialized: table}
    - {name: growing, materialized: incremental, cursor: id}
)");
  Write("models/hourly.sql",
        "SELECT id, kind FROM {{ source('events') }}\n"
        "WHERE ts >= {{ interval_start }} AND ts < {{ interval_end }} AND kind <> {{ "
        "var('drop_kind') }}\n");
  Write("models/growing.sql",
        "SELECT id FROM {{ source('events') }}\n"
        "WHERE ts >= {{ interval_start }} AND ts < {{ interval_end }}\n");
  Load();

  // Without values nothing is built, and every use is named at its place.
  auto none = Build();
  ASSERT_FALSE(none.ok());
  const std::string msg = none.status().message();
  EXPECT_NE(msg.find("models/hourly.sql:2:13: {{ interval_start }} has no value"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("models/hourly.sql:2:"), std::string::npos);
  EXPECT_NE(msg.find("{{ var('drop_kind') }} has no value: pass --var drop_kind=VALUE"),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("models/growing.sql:2:13:"), std::string::npos) << msg;
  EXPECT_EQ(warehouse_->Relation("hourly").value_or(warehouse::RelationKind::kTable),
            warehouse::RelationKind::kNone);

  // Hours 1-3; a value that tries to end the string literal is just a string.
  auto a = Build({}, 1, false, Hours(1, 4, "x'); DROP TABLE t; --"));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(a->ok()) << Outcome(*a, "hourly").error;
  EXPECT_EQ(Outcome(*a, "hourly").rows, 3);
  EXPECT_EQ(Count("SELECT min(id) * 100 + max(id) FROM hourly"), 103);
  const std::string version_a = Outcome(*a, "hourly").version;
  EXPECT_EQ(Outcome(*a, "growing").rows, 3);

  // Another interval is another version, with another definition hash.
  auto b = Build({}, 1, false, Hours(4, 6, "b"));
  ASSERT_TRUE(b.ok() && b->ok()) << (b.ok() ? Outcome(*b, "hourly").error : b.status().ToString());
  EXPECT_EQ(Outcome(*b, "hourly").status, ModelStatus::kBuilt);
  EXPECT_EQ(Outcome(*b, "hourly").rows, 1);  // ids 4 (kind b, dropped) and 5
  EXPECT_EQ(Count("SELECT max(id) FROM hourly"), 5);
  EXPECT_NE(Outcome(*b, "hourly").version, version_a);
  auto graph = ModelGraph::Load(*spec_);
  ASSERT_TRUE(graph.ok());
  const Model& hourly = *graph->Find("hourly");
  EXPECT_NE(DefinitionHash(*graph, hourly, Hours(1, 4, "b")),
            DefinitionHash(*graph, hourly, Hours(4, 6, "b")));
  EXPECT_NE(DefinitionHash(*graph, hourly, Hours(1, 4, "a")),
            DefinitionHash(*graph, hourly, Hours(1, 4, "b")));
  // The incremental model extends its table with the new interval's rows.
  EXPECT_EQ(Outcome(*b, "growing").new_rows, 2);
  EXPECT_EQ(Outcome(*b, "growing").rows, 5);
  EXPECT_EQ(DefinitionHash(*graph, *graph->Find("growing"), Hours(1, 4, "b")),
            DefinitionHash(*graph, *graph->Find("growing"), Hours(4, 6, "b")));

  // The same values again: nothing to do for the table.
  auto again = Build({"hourly"}, 1, false, Hours(4, 6, "b"));
  ASSERT_TRUE(again.ok() && again->ok());
  EXPECT_EQ(Outcome(*again, "hourly").status, ModelStatus::kUnchanged);
  // The first interval again: rebuilt, and named as the first time (same rows, same values).
  auto a2 = Build({"hourly"}, 1, false, Hours(1, 4, "x'); DROP TABLE t; --"));
  ASSERT_TRUE(a2.ok() && a2->ok());
  EXPECT_EQ(Outcome(*a2, "hourly").status, ModelStatus::kBuilt);
  EXPECT_EQ(Outcome(*a2, "hourly").version, version_a);
  EXPECT_EQ(Count("SELECT count(*) FROM hourly"), 3);
}

}  // namespace
}  // namespace sluice::models
