#include "orchestrate/openlineage.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "config/project_loader.h"

namespace sluice::orchestrate {
namespace {
namespace fs = std::filesystem;

class OpenLineageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sluice_ol_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(OpenLineageTest, RunAndStepEventsCarryTheSpecsRequiredFields) {
  auto spec = config::LoadProjectFromString(
      "name: shop\n"
      "sources: [{name: tx, type: file, path: data/tx.csv, format: csv, columns: [{name: a, "
      "type: string}]}]\n"
      "pipelines:\n  - name: p\n    steps:\n"
      "      - {name: load, run: command, command: 'true'}\n"
      "      - {name: bad, run: command, depends_on: [load], command: 'exit 4'}\n",
      "sluice.yaml", nullptr);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  spec->dir = dir_;
  base::ManualClock clock(base::ProcessingTime(std::chrono::seconds(1'767'225'600)));
  OpenLineageSink sink;
  sink.file = dir_ / "events.jsonl";
  sink.job_namespace = "sluice/shop";
  sink.producer = "https://github.com/sluice/sluice/tree/test";
  OpenLineageEmitter emitter(*spec, spec->pipelines[0], sink, clock);
  auto history = registry::PipelineHistory::Open(dir_ / "r.sqlite");
  ASSERT_TRUE(history.ok());
  RunRequest req;
  req.project = &*spec;
  req.pipeline = &spec->pipelines[0];
  RunnerOptions opt;
  opt.sluice_binary = "/bin/false";
  opt.log_dir = dir_ / "runs";
  opt.observer = &emitter;
  auto out = RunPipeline(req, opt, clock, *history);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->status, "failed");
  EXPECT_EQ(emitter.failures(), 0);

  std::ifstream in(dir_ / "events.jsonl");
  std::vector<nlohmann::json> events;
  for (std::string line; std::getline(in, line);)
    events.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(events.size(), 6u);  // run START, load START/COMPLETE, bad START/FAIL, run FAIL
  const std::regex uuid("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::vector<std::string> seq;
  for (const auto& e : events) {
    ASSERT_TRUE(e.contains("eventType") && e.contains("eventTime") && e.contains("run") &&
                e.contains("job") && e.contains("producer") && e.contains("schemaURL"))
        << e.dump();
    EXPECT_TRUE(std::regex_match(e["run"]["runId"].get<std::string>(), uuid)) << e.dump();
    EXPECT_EQ(e["job"]["namespace"], "sluice/shop");
    EXPECT_EQ(e["eventTime"], "2026-01-01T00:00:00Z");
    EXPECT_EQ(e["producer"], sink.producer);
    EXPECT_EQ(e["schemaURL"], "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent");
    seq.push_back(e["job"]["name"].get<std::string>() + ":" + e["eventType"].get<std::string>());
  }
  EXPECT_EQ(seq, (std::vector<std::string>{"p:START", "p.load:START", "p.load:COMPLETE",
                                           "p.bad:START", "p.bad:FAIL", "p:FAIL"}));
  const std::string pipeline_run = events[0]["run"]["runId"];
  EXPECT_EQ(events[5]["run"]["runId"], pipeline_run);
  EXPECT_EQ(events[1]["run"]["runId"], events[2]["run"]["runId"]);
  EXPECT_NE(events[1]["run"]["runId"], pipeline_run);
  EXPECT_EQ(events[1]["run"]["facets"]["parent"]["run"]["runId"], pipeline_run);
  EXPECT_EQ(events[1]["run"]["facets"]["parent"]["job"]["name"], "p");
  EXPECT_EQ(events[4]["run"]["facets"]["errorMessage"]["message"], "exit code 4");
  EXPECT_EQ(events[5]["run"]["facets"]["errorMessage"]["message"], "bad: exit code 4");
}

TEST_F(OpenLineageTest, DatasetsOfSteps) {
  auto spec = config::LoadProjectFromString(
      "name: shop\n"
      "sources: [{name: tx, type: file, path: data/tx.csv, format: csv, columns: [{name: a, "
      "type: string}]}]\n"
      "pipelines:\n  - name: p\n    steps:\n"
      "      - {name: ingest, run: ingest, sources: [tx]}\n"
      "      - {name: after, run: command, depends_on: [ingest], command: 'true'}\n",
      "sluice.yaml", nullptr);
  ASSERT_TRUE(spec.ok()) << spec.status().ToString();
  base::ManualClock clock(base::ProcessingTime(std::chrono::seconds(0)));
  OpenLineageSink sink;
  sink.job_namespace = "sluice/shop";
  sink.producer = "x";
  OpenLineageEmitter emitter(*spec, spec->pipelines[0], sink, clock);
  auto ingest = nlohmann::json::parse(
      emitter.Event("START", RandomUuid(), "p.ingest", &spec->pipelines[0].steps[0], ""));
  EXPECT_EQ(ingest["inputs"],
            nlohmann::json::parse(R"([{"namespace":"file","name":"data/tx.csv"}])"));
  EXPECT_EQ(ingest["outputs"],
            nlohmann::json::parse(R"([{"namespace":"sluice/shop","name":"tx"}])"));
  auto after = nlohmann::json::parse(
      emitter.Event("START", RandomUuid(), "p.after", &spec->pipelines[0].steps[1], ""));
  EXPECT_EQ(after["inputs"], nlohmann::json::parse(R"([{"namespace":"sluice/shop","name":"tx"}])"));
  EXPECT_EQ(after["outputs"], nlohmann::json::array());
}

}  // namespace
}  // namespace sluice::orchestrate
