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

TEST(ManifestTest, IdIgnoresIdCreationTimeAndChecksumButNothingElse) {
  Manifest a = Sample();
  Manifest b = Sample();
  b.created_at = "2030-05-05T00:00:00Z";
  b.id = "something else";
  b.checksum = "anything";
  EXPECT_EQ(ComputeManifestId(a), ComputeManifestId(b));
  b.rows.read = 11;
  b.rows.quarantined = 2;
  EXPECT_NE(ComputeManifestId(a), ComputeManifestId(b));
  Manifest c = Sample();
  c.cursor->value = "2026-01-02T00:00:00Z";
  EXPECT_NE(ComputeManifestId(a), ComputeManifestId(c));
  Manifest d = Sample();
  d.inputs[0].sha256 = std::string(64, 'f');
  EXPECT_NE(ComputeManifestId(a), ComputeManifestId(d));
  Manifest e = Sample();
  e.outputs[0].rows = 8;
  EXPECT_NE(ComputeManifestId(a), ComputeManifestId(e));
  EXPECT_EQ(ComputeManifestId(a).size(), 64U);
}

// The same rows cut into other Parquet row groups are other bytes: a source version keeps its
// name, and the checksum still covers the bytes it published.
TEST(ManifestTest, SourceIdDoesNotDependOnOutputBytesButTheChecksumDoes) {
  Manifest a = Sample();
  Manifest b = Sample();
  b.outputs[0].sha256 = std::string(64, 'd');
  b.outputs[0].bytes = 1001;
  EXPECT_EQ(ComputeManifestId(a), ComputeManifestId(b));
  EXPECT_NE(ComputeManifestChecksum(a), ComputeManifestChecksum(b));
  // Every other kind is named by its output bytes too.
  a.kind = b.kind = "model";
  EXPECT_NE(ComputeManifestId(a), ComputeManifestId(b));
}

TEST(ManifestTest, IntactOnlyWhileIdAndChecksumMatch) {
  Manifest m = Sample();
  m.checksum = ComputeManifestChecksum(m);
  EXPECT_TRUE(ManifestIsIntact(m));
  auto back = ParseManifest(ToPrettyJson(m));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(ManifestIsIntact(*back));
  Manifest edited = m;
  edited.outputs[0].sha256 = std::string(64, 'd');  // the id alone would not notice
  EXPECT_FALSE(ManifestIsIntact(edited));
  Manifest no_checksum = m;
  no_checksum.checksum.clear();
  EXPECT_FALSE(ManifestIsIntact(no_checksum));
}

// A manifest written by sluice before format 2 (ids over the output bytes): still read, and
// verified by its own rule.
constexpr const char* kFormat1Manifest =
    R"({"format_version":1,"id":"491893f1b42aba926b0709a5a45f6bc26f18df2f9b38f6d6ff57c853213f7647",)"
    R"("dataset":"tx_csv","kind":"source","created_at":"2026-11-26T16:06:44.723977Z",)"
    R"("definition_hash":"2f6067d050ed10beebdfc4a54e66323b7c7f1828fdf8a624ad1539987079fb40",)"
    R"("sluice_version":"0.1.0","schema":[{"name":"txn_id","type":"string","nullable":false},)"
    R"({"name":"user_id","type":"int64","nullable":false},)"
    R"({"name":"merchant_id","type":"string","nullable":false},)"
    R"({"name":"merchant_category","type":"string","nullable":true},)"
    R"({"name":"amount","type":"double","nullable":false},)"
    R"({"name":"currency","type":"string","nullable":true},)"
    R"({"name":"country","type":"string","nullable":true},)"
    R"({"name":"channel","type":"string","nullable":true},)"
    R"({"name":"ts","type":"timestamp","nullable":false}],)"
    R"("inputs":[{"path":"data/transactions.csv",)"
    R"("sha256":"855aea95da35925066e9fe79446ea3fa9f5256093d0f1bfd4015d658c2436c00","bytes":81301}],)"
    R"("parents":[],"rows":{"read":1000,"loaded":1000,"quarantined":0},)"
    R"("outputs":[{"name":"data",)"
    R"("sha256":"fdd34c2b984ade28a18487064f61072bfe9bcfcbe13cbb8256f04af85bc19dc4",)"
    R"("bytes":23945,"rows":1000}],"cursor":null})";

TEST(ManifestTest, ReadsAndVerifiesFormat1) {
  auto m = ParseManifest(kFormat1Manifest);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->format_version, 1);
  EXPECT_TRUE(m->checksum.empty());
  EXPECT_TRUE(ManifestIsIntact(*m));
  // Format 1 ids cover the output bytes, also for sources.
  Manifest edited = *m;
  edited.outputs[0].bytes = 23946;
  EXPECT_FALSE(ManifestIsIntact(edited));
  // Rendered again, it stays format 1 with its own id.
  auto again = ParseManifest(ToCanonicalJson(*m));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *m);
  EXPECT_TRUE(ManifestIsIntact(*again));
}

struct BadManifest {
  std::string find;
  std::string replace;
  std::string error;
};

TEST(ManifestTest, RejectsDamagedManifestsNamingTheKey) {
  const std::string good = ToCanonicalJson(Sample());
  const BadManifest cases[] = {
      {"\"format_version\":2", "\"format_version\":9", "format_version 9 is not supported"},
      {"\"format_version\":2", "\"format_version\":0", "format_version 0 is not supported"},
      {"\"checksum\":\"", "\"checksum\":7,\"x\":\"", "'checksum' has the wrong type"},
      {"\"dataset\":\"transactions\",", "", "missing key 'dataset'"},
      {"\"bytes\":1234", "\"bytes\":\"many\"", "'inputs[0].bytes' has the wrong type"},
      {"\"type\":\"double\"", "\"type\":\"money\"", "unknown type 'money'"},
      {"\"loaded\":9", "\"loaded\":8", "rows.loaded + rows.quarantined != rows.read"},
      {"\"schema\":[", "\"schema\":{\"x\":1},\"ignored\":[", "'schema' must be a list"},
      {"\"cursor\":{", "\"cursor\":7,\"c\":{", "'cursor' must be an object or null"},
      // Found by fuzz/manifest_fuzz.cpp: out-of-range numbers and overflowing counts.
      {"\"format_version\":2", "\"format_version\":5.55556e+43", "whole number in range"},
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
