#include "store/key_layout.h"

#include <gtest/gtest.h>

namespace sluice::store {
namespace {

TEST(KeyLayoutTest, KeysFollowTheDocumentedLayout) {
  EXPECT_EQ(ValueKey("fraud", std::string("k\0y", 3)), std::string("s1/v/fraud/k\0y", 14));
  EXPECT_EQ(ValuePrefix("fraud"), "s1/v/fraud/");
  EXPECT_EQ(MetaKey("fraud"), "s1/m/fraud");
  EXPECT_EQ(ValueKey("fraud", "").substr(0, ValuePrefix("fraud").size()), ValuePrefix("fraud"));
}

TEST(KeyLayoutTest, ValueKeysParseBackWhateverTheEntityHolds) {
  for (const std::string& entity :
       {std::string(), std::string("a/b/"), std::string("\0\xff", 2), std::string("s1/m/x")}) {
    auto parsed = ParseValueKey(ValueKey("v.1-x_y", entity));
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(parsed->view, "v.1-x_y");
    EXPECT_EQ(parsed->entity, entity);
  }
  EXPECT_FALSE(ParseValueKey("s1/m/fraud").ok());
  EXPECT_FALSE(ParseValueKey("s1/v/noslash").ok());
  EXPECT_FALSE(ParseValueKey("s1/v/bad view/e").ok());
}

TEST(KeyLayoutTest, ViewNamesAreChecked) {
  EXPECT_TRUE(ValidateViewName("user_stats.v2-a").ok());
  EXPECT_TRUE(ValidateViewName(std::string(kMaxViewNameBytes, 'v')).ok());
  for (const std::string& bad :
       {std::string(), std::string("a/b"), std::string("a b"), std::string("a*"),
        std::string("a\0b", 3), std::string("é"), std::string(kMaxViewNameBytes + 1, 'v')}) {
    auto s = ValidateViewName(bad);
    EXPECT_EQ(s.code(), base::StatusCode::kInvalidArgument) << bad;
    EXPECT_NE(s.message().find("view name"), std::string::npos) << s.message();
  }
}

TEST(KeyLayoutTest, MetaRoundTripsAndRejectsDamage) {
  ViewMeta m;
  m.source_version = "ds_0123";
  m.definition_hash = std::string("h\0\xff", 3);
  m.newest_event_micros = -5;
  m.entities = 1'000'000;
  m.materialized_at = "2024-01-02T03:04:05Z";
  m.encoding_version = 3;
  const std::string bytes = EncodeViewMeta(m);
  EXPECT_EQ(static_cast<unsigned char>(bytes[0]), kMetaFormat);
  auto back = DecodeViewMeta(bytes, "k");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, m);

  // Every truncation, trailing garbage and a future format are corruption, not a misread.
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_EQ(DecodeViewMeta(bytes.substr(0, n), "k").status().code(),
              base::StatusCode::kCorruption)
        << n;
  }
  EXPECT_EQ(DecodeViewMeta(bytes + "x", "k").status().code(), base::StatusCode::kCorruption);
  std::string future = bytes;
  future[0] = 2;
  auto s = DecodeViewMeta(future, "s1/m/v").status();
  EXPECT_EQ(s.code(), base::StatusCode::kCorruption);
  EXPECT_NE(s.message().find("format 2"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("s1/m/v"), std::string::npos) << s.message();
}

TEST(KeyLayoutTest, MetaEncodingIsLittleEndianAndStable) {
  ViewMeta m;
  m.source_version = "a";
  m.newest_event_micros = 0x0102030405060708;
  m.entities = 1;
  m.encoding_version = 1;
  // format, "a", "", newest, entities, "", encoding_version: the bytes are part of the layout.
  const std::string expected =
      std::string("\x01", 1) + std::string("\x01\0\0\0a", 5) + std::string("\0\0\0\0", 4) +
      std::string("\x08\x07\x06\x05\x04\x03\x02\x01", 8) + std::string("\x01\0\0\0\0\0\0\0", 8) +
      std::string("\0\0\0\0", 4) + std::string("\x01\0\0\0", 4);
  EXPECT_EQ(EncodeViewMeta(m), expected);
}

}  // namespace
}  // namespace sluice::store
