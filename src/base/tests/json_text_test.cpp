#include "base/json_text.h"

#include <gtest/gtest.h>

namespace sluice::base {
namespace {

TEST(JsonTextTest, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(JsonQuoted("plain"), "\"plain\"");
  EXPECT_EQ(JsonQuoted("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(JsonQuoted(std::string("\n\t\x01\x1f", 4)), "\"\\u000a\\u0009\\u0001\\u001f\"");
  EXPECT_EQ(JsonQuoted(std::string("nul\0byte", 8)), "\"nul\\u0000byte\"");
  // UTF-8 and DEL pass through as they are.
  EXPECT_EQ(JsonQuoted("caf\xc3\xa9 \x7f"), "\"caf\xc3\xa9 \x7f\"");
  std::string out = "x=";
  AppendJsonEscaped(out, "\"");
  EXPECT_EQ(out, "x=\\\"");
}

}  // namespace
}  // namespace sluice::base
