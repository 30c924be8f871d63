#include "lake/lake.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "base/kill_point.h"
#include "lake/atomic_file.h"
#include "lake/content_hash.h"

namespace sluice::lake {
namespace {
namespace fs = std::filesystem;

class LakeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() /
        ("sluice_lake_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    lake_ = std::make_unique<Lake>(dir_ / "lake");
    ASSERT_TRUE(lake_->Open().ok());
  }
  void TearDown() override {
    std::error_code ec;
    // Objects are read-only; make them removable.
    for (auto& p : fs::recursive_directory_iterator(dir_, ec)) {
      fs::permissions(p.path(), fs::perms::owner_all, fs::perm_options::add, ec);
    }
    fs::remove_all(dir_, ec);
  }
  fs::path WriteTemp(const std::string& name, const std::string& content) {
    fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }
  Manifest MakeManifest(const std::string& data) {
    Manifest m;
    m.dataset = "transactions";
    m.kind = "source";
    m.created_at = "2026-01-01T00:00:00Z";
    m.schema = *types::Schema::Make({{"x", types::LogicalType::kInt64, true}});
    auto sha = lake_->PutObject(WriteTemp("part", data));
    EXPECT_TRUE(sha.ok());
    // A source's data follows from its inputs: other data, other input.
    m.inputs = {{"in.csv", Sha256Hex("input of " + data), data.size()}};
    m.outputs = {{"data", *sha, data.size(), 1}};
    m.rows = {1, 1, 0};
    return m;
  }

  fs::path dir_;
  std::unique_ptr<Lake> lake_;
};

TEST_F(LakeTest, ObjectsAreStoredOnceByContent) {
  auto a = lake_->PutObject(WriteTemp("a", "same bytes"));
  auto b = lake_->PutObject(WriteTemp("b", "same bytes"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  EXPECT_EQ(*a, Sha256Hex("same bytes"));
  EXPECT_EQ(*ReadFile(lake_->ObjectPath(*a)), "same bytes");
  auto moved = lake_->PutObject(WriteTemp("c", "moved"), /*move=*/true);
  ASSERT_TRUE(moved.ok());
  EXPECT_FALSE(fs::exists(dir_ / "c"));
  EXPECT_TRUE(lake_->HasObject(*moved));
}

TEST_F(LakeTest, StagedCopiesAreHashedAsCopiedAndStoredByRename) {
  const std::string big(3 << 20, 'x');  // several read buffers
  const fs::path original = WriteTemp("in.csv", big + "tail");
  auto copy = StagedCopy::Make(original, dir_ / "lake/copy.csv");
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  EXPECT_EQ(copy->sha256(), *Sha256File(original));
  EXPECT_EQ(copy->bytes(), big.size() + 4);
  // The original may change; the copy and its hash stay what was read.
  WriteTemp("in.csv", "changed");
  auto sha = lake_->PutObject(*copy);
  ASSERT_TRUE(sha.ok()) << sha.status().ToString();
  EXPECT_EQ(*sha, copy->sha256());
  EXPECT_EQ(*Sha256File(lake_->ObjectPath(*sha)), *sha);
  EXPECT_FALSE(fs::exists(dir_ / "lake/copy.csv"));

  // Storing content that is already there removes the copy.
  auto again = StagedCopy::Make(lake_->ObjectPath(*sha), dir_ / "lake/again.csv");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*lake_->PutObject(*again), *sha);
  EXPECT_FALSE(fs::exists(dir_ / "lake/again.csv"));

  EXPECT_FALSE(StagedCopy::Make(dir_ / "missing", dir_ / "lake/m").ok());
  // An existing destination is never overwritten.
  WriteTemp("taken", "x");
  EXPECT_FALSE(StagedCopy::Make(original, dir_ / "taken").ok());
}

// O_DIRECT writes whole aligned blocks only: every size around the block and buffer edges must
// still give the very bytes (the tail goes through the page cache).
TEST_F(LakeTest, StagedCopiesBypassingTheCacheHoldTheSameBytes) {
  constexpr size_t kBlock = StagedCopy::kDirectAlignment;
  const size_t sizes[] = {0, 1, kBlock - 1, kBlock, kBlock + 1, (1 << 20) + 3, 3 << 20};
  for (const size_t size : sizes) {
    SCOPED_TRACE(size);
    std::string content(size, '\0');
    for (size_t i = 0; i < size; ++i)
      content[i] = static_cast<char>('a' + (i * 7919) % 26);
    const fs::path original = WriteTemp("direct-in-" + std::to_string(size), content);
    const fs::path dest = dir_ / ("direct-out-" + std::to_string(size));
    auto copy = StagedCopy::Make(original, dest, nullptr, StagedCopy::Cache::kBypass);
    ASSERT_TRUE(copy.ok()) << copy.status().ToString();
    EXPECT_EQ(copy->bytes(), size);
    EXPECT_EQ(copy->sha256(), Sha256Hex(content));
    EXPECT_EQ(*ReadFile(dest), content);
  }
}

TEST_F(LakeTest, PublishingUnchangedContentCreatesNoVersion) {
  auto first = lake_->Publish(MakeManifest("v1"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->created);
  Manifest again = MakeManifest("v1");
  again.created_at = "2026-02-02T00:00:00Z";
  auto second = lake_->Publish(again);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->created);
  EXPECT_EQ(second->manifest.id, first->manifest.id);
  EXPECT_EQ(second->manifest.created_at, "2026-01-01T00:00:00Z");
  auto third = lake_->Publish(MakeManifest("v2"));
  ASSERT_TRUE(third.ok());
  EXPECT_TRUE(third->created);
  auto history = lake_->History("transactions");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 2U);
  EXPECT_EQ((*history)[0].id, first->manifest.id);
  EXPECT_EQ((**lake_->Current("transactions")).id, third->manifest.id);
  EXPECT_EQ(*lake_->Datasets(), std::vector<std::string>{"transactions"});
}

// Two writers each adding an output to the current version (the workers of one stream): each
// build sees the other's publish, so no addition is lost; a failing build publishes nothing.
TEST_F(LakeTest, PublishOntoBuildsOnTheCurrentVersionUnderTheLock) {
  auto add = [&](const std::string& data) {
    return [&, data](const std::optional<Manifest>& current) -> base::Result<Manifest> {
      Manifest m = current ? *current : MakeManifest(data);
      if (current) {
        Manifest extra = MakeManifest(data);
        m.parents = {current->id};
        m.outputs.push_back(extra.outputs.front());
        m.inputs.push_back(extra.inputs.front());
      }
      return m;
    };
  };
  auto first = lake_->PublishOnto("transactions", add("a"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->created);
  auto second = lake_->PublishOnto("transactions", add("b"));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  auto third = lake_->PublishOnto("transactions", add("c"));
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_EQ(third->manifest.outputs.size(), 3U);
  EXPECT_EQ(third->manifest.parents, std::vector<std::string>{second->manifest.id});

  auto refused = lake_->PublishOnto("transactions",
                                    [](const std::optional<Manifest>&) -> base::Result<Manifest> {
                                      return base::FailedPrecondition("someone else's partition");
                                    });
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(), "someone else's partition");
  auto current = lake_->Current("transactions");
  ASSERT_TRUE(current.ok() && *current);
  EXPECT_EQ((*current)->id, third->manifest.id);

  // Handing the current version back unchanged publishes nothing.
  auto same = lake_->PublishOnto(
      "transactions",
      [](const std::optional<Manifest>& c) -> base::Result<Manifest> { return *c; });
  ASSERT_TRUE(same.ok()) << same.status().ToString();
  EXPECT_FALSE(same->created);
  auto history = lake_->History("transactions");
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->size(), 3U);
}

TEST_F(LakeTest, FindsVersionsByPrefix) {
  auto v = lake_->Publish(MakeManifest("v1"));
  ASSERT_TRUE(v.ok());
  auto found = lake_->FindVersion(v->manifest.id.substr(0, 8));
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->id, v->manifest.id);
  EXPECT_EQ(lake_->FindVersion("abc").status().code(), base::StatusCode::kInvalidArgument);
  EXPECT_EQ(lake_->FindVersion("ffffffffff").status().code(), base::StatusCode::kNotFound);
  EXPECT_FALSE(lake_->Current("nothing").value().has_value());
}

TEST_F(LakeTest, PublishRequiresStoredOutputs) {
  Manifest m = MakeManifest("v1");
  m.outputs[0].sha256 = std::string(64, 'e');
  auto r = lake_->Publish(m);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not in the object store"), std::string::npos);
  EXPECT_TRUE(lake_->History("transactions")->empty());
}

TEST_F(LakeTest, CrashBeforeCommitLeavesPreviousStateAndIsAdoptedLater) {
  auto v1 = lake_->Publish(MakeManifest("v1"));
  ASSERT_TRUE(v1.ok());
  // Simulate a crash after the manifest was written but before HISTORY was rewritten, with a
  // half-written temporary file lying around.
  Manifest v2 = MakeManifest("v2");
  v2.id = ComputeManifestId(v2);
  v2.checksum = ComputeManifestChecksum(v2);
  const fs::path versions = dir_ / "lake" / "versions" / "transactions";
  ASSERT_TRUE(WriteFileAtomic(versions / (v2.id + ".json"), ToPrettyJson(v2)).ok());
  std::ofstream(versions / "HISTORY.tmp-123") << "garbage";

  Lake reopened(dir_ / "lake");
  ASSERT_TRUE(reopened.Open().ok());
  EXPECT_FALSE(fs::exists(versions / "HISTORY.tmp-123"));
  EXPECT_EQ((**reopened.Current("transactions")).id, v1->manifest.id);
  auto adopted = reopened.Publish(MakeManifest("v2"));
  ASSERT_TRUE(adopted.ok());
  EXPECT_TRUE(adopted->created);
  EXPECT_EQ(adopted->manifest.id, v2.id);
  EXPECT_EQ(reopened.History("transactions")->size(), 2U);
}

// DuckDB's parallel writer may cut the same rows into other row groups on another run: the
// same source data keeps its version, and the first files published stay the version's files.
TEST_F(LakeTest, SameSourceDataInOtherBytesIsTheSameVersion) {
  auto first = lake_->Publish(MakeManifest("v1"));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  Manifest same = MakeManifest("v1");
  auto other_bytes = lake_->PutObject(WriteTemp("other", "v1 cut differently"));
  ASSERT_TRUE(other_bytes.ok());
  same.outputs[0].sha256 = *other_bytes;
  same.outputs[0].bytes = 18;
  auto second = lake_->Publish(same);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_FALSE(second->created);
  EXPECT_EQ(second->manifest.id, first->manifest.id);
  EXPECT_EQ(second->manifest.outputs, first->manifest.outputs);
  EXPECT_EQ(lake_->History("transactions")->size(), 1U);
}

// A manifest left by a crash names files of its own; if they are gone, this run's are published.
TEST_F(LakeTest, LeftoverManifestWithMissingFilesIsReplaced) {
  Manifest left = MakeManifest("v1");
  left.outputs[0].sha256 = std::string(64, 'e');  // never stored
  left.id = ComputeManifestId(left);
  left.checksum = ComputeManifestChecksum(left);
  const fs::path versions = dir_ / "lake" / "versions" / "transactions";
  fs::create_directories(versions);
  ASSERT_TRUE(WriteFileAtomic(versions / (left.id + ".json"), ToPrettyJson(left)).ok());
  const Manifest fresh = MakeManifest("v1");
  auto published = lake_->Publish(fresh);
  ASSERT_TRUE(published.ok()) << published.status().ToString();
  EXPECT_TRUE(published->created);
  EXPECT_EQ(published->manifest.id, left.id);
  EXPECT_EQ(published->manifest.outputs, fresh.outputs);
  auto current = lake_->Current("transactions");
  ASSERT_TRUE(current.ok() && current->has_value());
  EXPECT_EQ((**current).outputs, fresh.outputs);
}

TEST_F(LakeTest, DetectsAnEditedOutputHash) {
  auto v = lake_->Publish(MakeManifest("v1"));
  ASSERT_TRUE(v.ok());
  const fs::path path = dir_ / "lake" / "versions" / "transactions" / (v->manifest.id + ".json");
  std::string text = *ReadFile(path);
  const std::string sha = v->manifest.outputs[0].sha256;
  text.replace(text.find(sha), sha.size(), std::string(64, '0'));
  std::ofstream(path, std::ios::trunc) << text;
  auto r = lake_->Current("transactions");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), base::StatusCode::kCorruption);
}

TEST_F(LakeTest, DetectsAnEditedManifest) {
  auto v = lake_->Publish(MakeManifest("v1"));
  ASSERT_TRUE(v.ok());
  const fs::path path = dir_ / "lake" / "versions" / "transactions" / (v->manifest.id + ".json");
  std::string text = *ReadFile(path);
  text.replace(text.find("\"loaded\": 1"), 11, "\"loaded\": 0");
  text.replace(text.find("\"read\": 1"), 9, "\"read\": 0");
  std::ofstream(path, std::ios::trunc) << text;
  auto r = lake_->Current("transactions");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), base::StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("does not match its id"), std::string::npos);
}

}  // namespace
}  // namespace sluice::lake

namespace sluice::lake {
namespace {

class CopyFileAtomicTest : public LakeTest {};

TEST_F(CopyFileAtomicTest, ReplacesTheFileWhole) {
  const fs::path from = WriteTemp("from", std::string(5000, 'n'));
  const fs::path to = WriteTemp("to", "old");
  ASSERT_TRUE(CopyFileAtomic(from, to, "test.mid_copy").ok());
  EXPECT_EQ(*ReadFile(to), std::string(5000, 'n'));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 3);  // + lake
  EXPECT_EQ(CopyFileAtomic(dir_ / "missing", to).code(), base::StatusCode::kIoError);
  EXPECT_EQ(*ReadFile(to), std::string(5000, 'n'));
}

// A process killed halfway through a copy leaves the previous file as it was, never a cut one
// under the final name; its temporary is swept once the process is gone.
TEST_F(CopyFileAtomicTest, AKillMidCopyLeavesTheOldFile) {
  const fs::path from = WriteTemp("from", std::string(3 << 20, 'n'));
  const fs::path to = WriteTemp("to", "old");
  EXPECT_EXIT(
      {
        ::setenv("SLUICE_KILL_AT", "test.mid_copy", 1);
        (void)CopyFileAtomic(from, to, "test.mid_copy");
        std::exit(0);
      },
      testing::ExitedWithCode(base::kKillPointExitCode), "killed at test.mid_copy");
  EXPECT_EQ(*ReadFile(to), "old");
  std::vector<std::string> leftovers;
  for (const auto& e : fs::directory_iterator(dir_)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(".to.tmp-", 0) == 0) {
      leftovers.push_back(name);
      EXPECT_EQ(fs::file_size(e.path()), (3u << 20) / 2) << "stopped in the middle";
    }
  }
  ASSERT_EQ(leftovers.size(), 1u);
  RemoveAbandonedTemporaries(dir_);
  EXPECT_FALSE(fs::exists(dir_ / leftovers[0]));
  EXPECT_TRUE(fs::exists(to));
  EXPECT_TRUE(fs::exists(dir_ / "from"));
}

}  // namespace
}  // namespace sluice::lake
