#include "base/scalar_text.h"

#include <gtest/gtest.h>

#include <cmath>

namespace sluice::base {
namespace {

TEST(ScalarTextTest, ParsesWholeIntegers) {
  EXPECT_EQ(*ParseInt64("42"), 42);
  EXPECT_EQ(*ParseInt64("-9223372036854775808"), INT64_MIN);
  EXPECT_EQ(ParseInt64("99999999999999999999999").status().message(),
            "'99999999999999999999999' is out of the int64 range");
  EXPECT_EQ(ParseInt64("abc").status().message(), "'abc' is not an integer");
  for (const char* bad : {"", " 1", "1 ", "1.5", "0x10", "12abc", "+"}) {
    EXPECT_FALSE(ParseInt64(bad).ok()) << bad;
  }
}

TEST(ScalarTextTest, ParsesNumbers) {
  EXPECT_EQ(*ParseDouble("2.5"), 2.5);
  EXPECT_EQ(*ParseDouble("+1e3"), 1000.0);
  EXPECT_EQ(*ParseDouble("-7"), -7.0);
  EXPECT_TRUE(std::isinf(*ParseDouble("inf")));
  EXPECT_EQ(ParseDouble("abc").status().message(), "'abc' is not a number");
  EXPECT_EQ(ParseDouble("1e999").status().message(), "'1e999' is out of the range of a double");
  for (const char* bad : {"", "nan", "1.5x", " 1", "+", "1,5"}) {
    EXPECT_FALSE(ParseDouble(bad).ok()) << bad;
  }
}

TEST(ScalarTextTest, ParsesBooleans) {
  EXPECT_TRUE(*ParseBool("true"));
  EXPECT_FALSE(*ParseBool("false"));
  EXPECT_EQ(ParseBool("yes").status().message(), "'yes' is not a boolean (true or false)");
  EXPECT_FALSE(ParseBool("1").ok());
}

}  // namespace
}  // namespace sluice::base
