#include "console/html_text.h"

#include <gtest/gtest.h>

namespace sluice::console {
namespace {

TEST(EscapeHtml, ReplacesEveryMarkupCharacter) {
  EXPECT_EQ(EscapeHtml("<script>alert('x' & \"y\")</script>"),
            "&lt;script&gt;alert(&#39;x&#39; &amp; &quot;y&quot;)&lt;/script&gt;");
  EXPECT_EQ(EscapeHtml("plain text 123"), "plain text 123");
  EXPECT_EQ(EscapeHtml(""), "");
  EXPECT_EQ(EscapeHtml("caf\xc3\xa9"), "caf\xc3\xa9");  // UTF-8 passes through
}

TEST(UrlEncode, KeepsOnlyUnreservedCharacters) {
  EXPECT_EQ(UrlEncode("user_spend-1.0~"), "user_spend-1.0~");
  EXPECT_EQ(UrlEncode("a b/c?d=e&f\"<"), "a%20b%2Fc%3Fd%3De%26f%22%3C");
}

TEST(UrlDecode, DecodesAndRejectsMalformedEscapes) {
  EXPECT_EQ(UrlDecode("a%20b%2Fc", false), "a b/c");
  EXPECT_EQ(UrlDecode("a+b", true), "a b");
  EXPECT_EQ(UrlDecode("a+b", false), "a+b");
  EXPECT_EQ(UrlDecode("%", false), std::nullopt);
  EXPECT_EQ(UrlDecode("%4", false), std::nullopt);
  EXPECT_EQ(UrlDecode("%zz", false), std::nullopt);
  EXPECT_EQ(UrlDecode("%00", false), std::nullopt);  // no NUL bytes into names
  EXPECT_EQ(UrlDecode(std::string_view("a\0b", 3), false), std::nullopt);  // nor raw ones
  EXPECT_EQ(UrlDecode(UrlEncode("x/y z<\xc3\xa9"), false), "x/y z<\xc3\xa9");
}

TEST(ParseQuery, DecodesPairsAndDropsMalformedOnes) {
  const auto q = ParseQuery("target=fraud%20train&x=1&x=2&bad=%zz&=v&flag");
  EXPECT_EQ(q.at("target"), "fraud train");
  EXPECT_EQ(q.at("x"), "1");
  EXPECT_EQ(q.count("bad"), 0U);
  EXPECT_EQ(q.at("flag"), "");
  EXPECT_TRUE(ParseQuery("").empty());
  const auto with_nul = ParseQuery(std::string_view("a=1&b\0=2&c=3\0", 13));
  EXPECT_EQ(with_nul.size(), 1U);
  EXPECT_EQ(with_nul.at("a"), "1");
}

TEST(FormatBytes, PicksAUnit) {
  EXPECT_EQ(FormatBytes(812), "812 B");
  EXPECT_EQ(FormatBytes(1536), "1.5 KiB");
  EXPECT_EQ(FormatBytes(3.0 * 1024 * 1024), "3.0 MiB");
}

}  // namespace
}  // namespace sluice::console
