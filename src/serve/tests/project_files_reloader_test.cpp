#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "serve/feature_server.h"

namespace sluice::serve {
namespace {
namespace fs = std::filesystem;

class ProjectFilesReloaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sluice_reloader_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::copy(fs::path(SLUICE_CONFIG_TESTDATA) / "fraud", dir_, fs::copy_options::recursive);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void Replace(const fs::path& file, const std::string& from, const std::string& to) {
    std::ifstream in(dir_ / file);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const size_t at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    text.replace(at, from.size(), to);
    std::ofstream(dir_ / file, std::ios::trunc) << text;
  }

  fs::path dir_;
};

TEST_F(ProjectFilesReloaderTest, AProjectFromAStringIsNeverReloaded) {
  EXPECT_FALSE(ProjectFilesReloader(fs::path()));
}

TEST_F(ProjectFilesReloaderTest, EachCallReadsTheFilesAsTheyAreNow) {
  auto reload = ProjectFilesReloader(dir_);
  ASSERT_TRUE(reload);
  auto before = reload();
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  ASSERT_FALSE(before->feature_views.empty());
  EXPECT_EQ(before->feature_views[0].name, "user_txn");
  EXPECT_EQ(before->feature_views[0].filter, "amount > 0");

  Replace("features/user.yaml", "filter: \"amount > 0\"", "filter: \"amount > 10\"");
  auto after = reload();
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->feature_views[0].filter, "amount > 10");
}

TEST_F(ProjectFilesReloaderTest, BrokenFilesAreAnErrorNotAProject) {
  auto reload = ProjectFilesReloader(dir_);
  Replace("features/user.yaml", "ttl: 30d", "ttl: soon");
  auto spec = reload();
  ASSERT_FALSE(spec.ok());
  // Where the problem is, not only that there is one.
  EXPECT_NE(spec.status().message().find("user.yaml:"), std::string::npos)
      << spec.status().ToString();
  EXPECT_NE(spec.status().message().find("ttl"), std::string::npos) << spec.status().ToString();
}

}  // namespace
}  // namespace sluice::serve
