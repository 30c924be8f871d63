#include "lake/content_hash.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

namespace sluice::lake {
namespace {

TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256Test, IncrementalEqualsOneShot) {
  Sha256 h;
  h.Update("a");
  h.Update("bc");
  EXPECT_EQ(h.HexDigest(), Sha256Hex("abc"));
}

TEST(Sha256Test, FileHashAndMissingFile) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("sluice_sha_test_" + std::to_string(::getpid()) + ".txt");
  std::ofstream(path) << "abc";
  EXPECT_EQ(*Sha256File(path), Sha256Hex("abc"));
  std::filesystem::remove(path);
  auto missing = Sha256File(path);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find(path.string()), std::string::npos);
}

}  // namespace
}  // namespace sluice::lake
