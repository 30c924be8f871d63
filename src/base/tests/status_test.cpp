#include "base/status.h"

#include <gtest/gtest.h>

#include <string>

#include "base/result.h"

namespace sluice::base {
namespace {

TEST(StatusTest, OkByDefault) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "ok");
}

TEST(StatusTest, CarriesCodeMessageAndRetryable) {
  Status s = Unavailable("redis at 127.0.0.1:6379 refused the connection");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_TRUE(s.retryable());
  EXPECT_FALSE(InvalidArgument("x").retryable());
  EXPECT_TRUE(IoError("disk", /*retryable=*/true).retryable());
  EXPECT_FALSE(IoError("disk").retryable());
}

TEST(StatusTest, ContextChainsOutermostFirst) {
  Status s = NotFound("no column 'amount'")
                 .WithContext("in feature view 'user_txn'")
                 .WithContext("loading project 'fraud'");
  ASSERT_EQ(s.context().size(), 2U);
  EXPECT_EQ(s.ToString(),
            "loading project 'fraud': in feature view 'user_txn': no column 'amount'");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
}

TEST(StatusTest, ContextOnOkStaysOk) {
  Status s = Status::Ok().WithContext("ignored");
  EXPECT_TRUE(s.ok());
  EXPECT_TRUE(s.context().empty());
}

Status FailIf(bool fail) {
  return fail ? InvalidArgument("boom") : Status::Ok();
}

Status Chain(bool fail, int* reached) {
  SLUICE_RETURN_IF_ERROR(FailIf(fail));
  ++*reached;
  return Status::Ok();
}

TEST(StatusTest, ReturnIfErrorPropagates) {
  int reached = 0;
  EXPECT_TRUE(Chain(false, &reached).ok());
  EXPECT_EQ(reached, 1);
  Status s = Chain(true, &reached);
  EXPECT_EQ(s.message(), "boom");
  EXPECT_EQ(reached, 1);
}

Result<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgument(std::to_string(x) + " is odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  SLUICE_ASSIGN_OR_RETURN(int h, Half(x));
  SLUICE_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(ResultTest, AssignOrReturn) {
  auto ok = Quarter(12);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, 3);
  auto bad = Quarter(6);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "3 is odd");
  EXPECT_EQ(bad.value_or(-1), -1);
}

TEST(ResultTest, MovesOutValues) {
  Result<std::string> r(std::string(100, 'x'));
  std::string s = std::move(r).value();
  EXPECT_EQ(s.size(), 100U);
}

}  // namespace
}  // namespace sluice::base
