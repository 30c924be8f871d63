#include "lake/manifest.h"

#include <gtest/gtest.h>

namespace sluice::lake {
namespace {

Manifest Sample() {
  Manifest m;
  m.dataset = "transactions";
  m.kind = "source";
  m.created_at = "2026-01-01T00:00:00Z";
  m.definition_hash = "d1";
  m.sluice_version = "0.1.0";
  m.schema = *types::Schema::Make({{"txn_id", types::LogicalType::kString, false},
                                   {"amount", types::LogicalType::kDouble, true}});
  m.inputs = {{"data/transactions.csv", std::string(64, 'a'), 1234}};
  m.rows = {10, 9, 1};
  m.outputs = {{"data", std::string(64, 'b'), 999, 9}, {"quarantine", std::string(64, 'c'), 50, 1}};
  m.cursor = Cursor{"updated_at", "2026-01-01T00:00:00Z"};
  m.id = ComputeManifestId(m);
  return m;
}

TEST(ManifestTest, RoundTripsThroughJson) {
  const Manifest m = Sample();
  auto back = ParseManifest(ToPrettyJson(m));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, m);
  auto canonical = ParseManifest(ToCanonicalJson(m));
  ASSERT_TRUE(canonical.ok());
  EXPECT_EQ(*canonical, m);
}

TEST(ManifestTest, IdIgnoresIdAndCreationTimeButNothingElse) {
  Manifest a = Sample();
  Manifest b = Sample();
  b.created_at = "2030-05-05T00:00:00Z";
  b.id = "something else";
  EXPECT_EQ(ComputeManifestId(a), ComputeManifestId(b));
  b.rows.read = 11;
  b.rows.quarantined = 2;
  EXPECT_NE(ComputeManifestId(a), ComputeManifestId(b));
  Manifest c = Sample();
  c.cursor->value = "2026-01-02T00:00:00Z";
  EXPECT_NE(ComputeManifestId(a), ComputeManifestId(c));
  EXPECT_EQ(ComputeManifestId(a).size(), 64U);
}

struct BadManifest {
  std::string find;
  std::string replace;
  std::string error;
};

TEST(ManifestTest, RejectsDamagedManifestsNamingTheKey) {
  const std::string good = ToCanonicalJson(Sample());
  const BadManifest cases[] = {
      {"\"format_version\":1", "\"format_version\":9", "format_version 9 is not supported"},
      {"\"dataset\":\"transactions\",", "", "missing key 'dataset'"},
      {"\"bytes\":1234", "\"bytes\":\"many\"", "'inputs[0].bytes' has the wrong type"},
      {"\"type\":\"double\"", "\"type\":\"money\"", "unknown type 'money'"},
      {"\"loaded\":9", "\"loaded\":8", "rows.loaded + rows.quarantined != rows.read"},
      {"\"schema\":[", "\"schema\":{\"x\":1},\"ignored\":[", "'schema' must be a list"},
      {"\"cursor\":{", "\"cursor\":7,\"c\":{", "'cursor' must be an object or null"},
      // Found by fuzz/manifest_fuzz.cpp: out-of-range numbers and overflowing counts.
      {"\"format_version\":1", "\"format_version\":5.55556e+43", "whole number in range"},
      {"\"bytes\":1234", "\"bytes\":-5", "whole number in range"},
      {"\"loaded\":9", "\"loaded\":9223372036854775807", "rows.loaded + rows.quarantined"},
  };
  for (const auto& c : cases) {
    std::string text = good;
    const auto at = text.find(c.find);
    ASSERT_NE(at, std::string::npos) << c.find;
    text.replace(at, c.find.size(), c.replace);
    auto r = ParseManifest(text);
    ASSERT_FALSE(r.ok()) << c.error;
    EXPECT_EQ(r.status().code(), base::StatusCode::kCorruption);
    EXPECT_NE(r.status().message().find(c.error), std::string::npos) << r.status().message();
  }
  EXPECT_FALSE(ParseManifest("{").ok());
  EXPECT_FALSE(ParseManifest("[]").ok());
  EXPECT_FALSE(ParseManifest("").ok());
}

}  // namespace
}  // namespace sluice::lake
