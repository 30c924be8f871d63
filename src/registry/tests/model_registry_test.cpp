#include "registry/model_registry.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "registry/pipeline_history.h"
#include "registry/registry.h"

namespace sluice::registry {
namespace {
namespace fs = std::filesystem;

class ModelRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = fs::temp_directory_path() /
            ("sluice_models_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".sqlite");
    Cleanup();
  }
  void TearDown() override { Cleanup(); }
  void Cleanup() {
    for (const char* suffix : {"", "-wal", "-shm"})
      fs::remove(path_.string() + suffix);
  }
  ModelVersion Version(const std::string& ts) {
    ModelVersion v;
    v.name = "fraud";
    v.artifact_path = "model.bin";
    v.artifact_sha256 = "ab" + ts;
    v.training_set = "fraud_train";
    v.training_set_version = ts;
    v.definition_hash = "def-" + ts;
    v.created_at = "2026-01-01T00:00:00Z";
    return v;
  }
  fs::path path_;
};

TEST_F(ModelRegistryTest, RegisterNumbersVersionsAndRollbackMovesCurrent) {
  auto reg = ModelRegistry::Open(path_);
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  auto v1 = Version("ts1");
  v1.metrics = {{"auc", "0.91"}, {"loss", "0.2"}};
  ASSERT_EQ(reg->Register(v1)->version, 1);
  ASSERT_EQ(reg->Register(Version("ts2"))->version, 2);
  auto versions = reg->Versions("fraud");
  ASSERT_EQ(versions->size(), 2u);
  EXPECT_FALSE((*versions)[0].current);
  EXPECT_TRUE((*versions)[1].current);
  EXPECT_EQ((*versions)[0].metrics, v1.metrics);

  auto back = reg->Rollback("fraud");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->version, 1);
  EXPECT_EQ(back->training_set_version, "ts1");
  auto current = reg->Current();
  ASSERT_EQ(current->size(), 1u);
  EXPECT_EQ((*current)[0].version, 1);

  auto again = reg->Rollback("fraud");
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), base::StatusCode::kFailedPrecondition);
  EXPECT_EQ(reg->Rollback("nope").status().code(), base::StatusCode::kNotFound);
  // A new registration after a rollback becomes v3 and current.
  EXPECT_EQ(reg->Register(Version("ts3"))->version, 3);
  EXPECT_EQ((*reg->Current())[0].version, 3);
}

TEST_F(ModelRegistryTest, SharesTheFileWithTheOtherRegistryParts) {
  ASSERT_TRUE(Registry::Open(path_).ok());
  ASSERT_TRUE(PipelineHistory::Open(path_).ok());
  {
    auto reg = ModelRegistry::Open(path_);
    ASSERT_TRUE(reg.ok());
    ASSERT_TRUE(reg->Register(Version("ts1")).ok());
  }
  // Reopening does not migrate again or lose anything.
  auto again = ModelRegistry::Open(path_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->Versions("fraud")->size(), 1u);
  EXPECT_TRUE(Registry::Open(path_).ok());
}

}  // namespace
}  // namespace sluice::registry
