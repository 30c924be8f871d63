#include "lake/gc.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "base/kill_point.h"
#include "lake/atomic_file.h"
#include "lake/content_hash.h"

namespace sluice::lake {
namespace {
namespace fs = std::filesystem;

class GcTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sluice_gc_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    lake_ = std::make_unique<Lake>(dir_ / "lake");
    ASSERT_TRUE(lake_->Open().ok());
    policy_.now = base::ProcessingTime(std::chrono::duration_cast<base::Duration>(
        std::chrono::system_clock::now().time_since_epoch()));
    policy_.grace = base::Duration(0);
  }
  void TearDown() override {
    std::error_code ec;
    for (auto& p : fs::recursive_directory_iterator(dir_, ec)) {
      fs::permissions(p.path(), fs::perms::owner_all, fs::perm_options::add, ec);
    }
    fs::remove_all(dir_, ec);
  }
  // Publishes a version of `dataset` holding `data`, derived from `parents`.
  Manifest Publish(const std::string& dataset, const std::string& data,
                   std::vector<std::string> parents = {},
                   std::string created = "2026-01-01T00:00:00Z") {
    const fs::path file = dir_ / "part";
    std::ofstream(file, std::ios::binary) << data;
    auto sha = lake_->PutObject(file, /*move=*/true);
    EXPECT_TRUE(sha.ok());
    Manifest m;
    m.dataset = dataset;
    m.kind = parents.empty() ? "source" : "training_set";
    m.created_at = created;
    m.schema = *types::Schema::Make({{"x", types::LogicalType::kInt64, true}});
    m.inputs = {{"in-" + data, Sha256Hex("input of " + data), data.size()}};
    m.outputs = {{"data", *sha, data.size(), 1}};
    m.parents = std::move(parents);
    m.rows = {1, 1, 0};
    auto published = lake_->Publish(m);
    EXPECT_TRUE(published.ok()) << published.status().ToString();
    return published->manifest;
  }
  // CollectGarbage as of now (a grace of 0 then covers every file written so far).
  base::Result<GcReport> Gc() {
    policy_.now = base::ProcessingTime(std::chrono::duration_cast<base::Duration>(
        std::chrono::system_clock::now().time_since_epoch()));
    return CollectGarbage(*lake_, policy_);
  }
  std::vector<std::string> Ids(const std::string& dataset) {
    std::vector<std::string> ids;
    auto history = lake_->History(dataset);
    EXPECT_TRUE(history.ok()) << history.status().ToString();
    if (!history.ok()) return ids;
    for (const auto& m : *history)
      ids.push_back(m.id);
    return ids;
  }

  fs::path dir_;
  std::unique_ptr<Lake> lake_;
  GcPolicy policy_;
};

TEST_F(GcTest, WithoutRulesNoVersionGoes) {
  Publish("t", "a");
  Publish("t", "b");
  auto r = Gc();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->versions.empty());
  EXPECT_EQ(r->objects, 0);
  EXPECT_EQ(Ids("t").size(), 2u);
}

TEST_F(GcTest, KeepsTheNewestAndWhatIsDerivedFromOrPinned) {
  const Manifest a = Publish("t", "aaaa");
  const Manifest b = Publish("t", "bbbb");
  const Manifest c = Publish("t", "cccc");
  const Manifest d = Publish("t", "dddd");
  Publish("t", "eeee");
  const Manifest ts = Publish("ts", "train", {b.id});  // a training set made from b
  policy_.keep = 1;
  policy_.pinned = {{c.id, "the online store serves it"}};

  policy_.dry_run = true;
  auto dry = Gc();
  ASSERT_TRUE(dry.ok()) << dry.status().ToString();
  ASSERT_EQ(dry->versions.size(), 2u);  // a and d
  EXPECT_EQ(Ids("t").size(), 5u) << "a dry run removes nothing";
  EXPECT_TRUE(lake_->HasObject(a.outputs[0].sha256));

  // A profile beside a version's manifest goes with it.
  std::ofstream(dir_ / "lake/versions/t" / (a.id + ".profile.json")) << "{}";
  std::ofstream(dir_ / "lake/versions/t" / (b.id + ".profile.json")) << "{}";
  policy_.dry_run = false;
  auto r = Gc();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->versions.size(), 2u);
  EXPECT_EQ(r->versions[0].id, a.id);
  EXPECT_EQ(r->versions[1].id, d.id);
  ASSERT_EQ(r->kept.size(), 2u);
  std::map<std::string, std::string> kept;
  for (const auto& k : r->kept)
    kept[k.id] = k.reason;
  EXPECT_EQ(kept[c.id], "the online store serves it");
  EXPECT_EQ(kept[b.id], "version " + ts.id.substr(0, 12) + " of 'ts' was derived from it");
  EXPECT_EQ(r->objects, 2);
  EXPECT_EQ(r->manifests, 2);
  EXPECT_GT(r->bytes, 8u);  // the two 4-byte objects and the two manifests
  EXPECT_FALSE(lake_->HasObject(a.outputs[0].sha256));
  EXPECT_FALSE(lake_->HasObject(d.outputs[0].sha256));
  EXPECT_TRUE(lake_->HasObject(b.outputs[0].sha256));
  EXPECT_FALSE(fs::exists(dir_ / "lake/versions/t" / (a.id + ".json")));
  EXPECT_EQ(r->sidecars, 1);
  EXPECT_FALSE(fs::exists(dir_ / "lake/versions/t" / (a.id + ".profile.json")));
  EXPECT_TRUE(fs::exists(dir_ / "lake/versions/t" / (b.id + ".profile.json")));
  const auto ids = Ids("t");  // every listed version still reads whole
  EXPECT_EQ(ids, (std::vector<std::string>{b.id, c.id, Ids("t").back()}));
  EXPECT_TRUE(lake_->Current("ts").ok());

  auto again = Gc();
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->versions.empty());
  EXPECT_EQ(again->objects, 0);
}

TEST_F(GcTest, OlderThanAndKeepMustBothSelect) {
  const Manifest old1 = Publish("t", "o1", {}, "2020-01-01T00:00:00Z");
  Publish("t", "o2", {}, "2020-01-02T00:00:00Z");
  const Manifest fresh = Publish("t", "n1", {}, "2099-01-01T00:00:00Z");
  Publish("t", "n2", {}, "2099-01-02T00:00:00Z");
  policy_.older_than = std::chrono::hours(24);
  policy_.keep = 2;
  auto r = Gc();
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->versions.size(), 2u);
  EXPECT_EQ(r->versions[0].id, old1.id);
  EXPECT_EQ(Ids("t").front(), fresh.id);
}

TEST_F(GcTest, NeverReferencedObjectsWaitForTheGracePeriod) {
  Publish("t", "a");
  const fs::path stray = dir_ / "stray";
  std::ofstream(stray) << "stored by a run that has not published yet";
  auto sha = lake_->PutObject(stray, true);
  ASSERT_TRUE(sha.ok());
  policy_.grace = std::chrono::hours(1);
  auto r = Gc();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->objects, 0);
  EXPECT_TRUE(lake_->HasObject(*sha));
  policy_.grace = base::Duration(0);
  r = Gc();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->objects, 1);
  EXPECT_FALSE(lake_->HasObject(*sha));
}

// A gc killed at each of its steps leaves every listed version readable with all its files,
// and the next gc finishes the job.
TEST_F(GcTest, AKillAtAnyStepLeavesAConsistentLake) {
  for (const char* point : {"gc.before_history_rename", "gc.after_history_rewrite",
                            "gc.mid_manifest_delete", "gc.mid_object_delete"}) {
    SCOPED_TRACE(point);
    TearDown();
    SetUp();
    for (const char* data : {"v1", "v2", "v3", "v4"})
      Publish("t", data);
    const Manifest current = Publish("t", "v5");
    policy_.keep = 1;
    EXPECT_EXIT(
        {
          ::setenv("SLUICE_KILL_AT", point, 1);
          (void)Gc();
          std::exit(0);
        },
        testing::ExitedWithCode(base::kKillPointExitCode), std::string("killed at ") + point);
    auto history = lake_->History("t");
    ASSERT_TRUE(history.ok()) << history.status().ToString();
    for (const auto& m : *history) {
      for (const auto& o : m.outputs)
        EXPECT_TRUE(lake_->HasObject(o.sha256)) << m.id;
    }
    EXPECT_EQ(history->back().id, current.id);
    auto r = Gc();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(Ids("t"), std::vector<std::string>{current.id});
    size_t objects = 0;
    for (auto& e : fs::recursive_directory_iterator(dir_ / "lake/objects"))
      objects += e.is_regular_file();
    EXPECT_EQ(objects, 1u) << "only the current version's file is left";
  }
}

}  // namespace
}  // namespace sluice::lake
