#include "cli/project_template.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

namespace sluice::cli {
namespace {

// The embedded template must be byte-identical to examples/fraud, the one source of truth.
TEST(ProjectTemplateTest, MatchesExampleProjectOnDisk) {
  ASSERT_FALSE(ProjectTemplate().empty());
  bool has_project_file = false;
  for (const auto& file : ProjectTemplate()) {
    std::ifstream in(std::string(SLUICE_SOURCE_DIR) + "/examples/fraud/" + std::string(file.path),
                     std::ios::binary);
    ASSERT_TRUE(in) << file.path;
    std::stringstream ss;
    ss << in.rdbuf();
    EXPECT_EQ(ss.str(), file.content) << file.path;
    has_project_file |= file.path == "sluice.yaml";
  }
  EXPECT_TRUE(has_project_file);
}

}  // namespace
}  // namespace sluice::cli
