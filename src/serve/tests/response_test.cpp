#include "serve/response.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "serve/json_writer.h"

namespace sluice::serve {
namespace {

using types::Column;
using types::LogicalType;

engine::OnlineFeature Feature(std::string name, engine::FeatureStatus status, Column value) {
  engine::OnlineFeature f(value.type());
  f.name = std::move(name);
  f.status = status;
  f.value = std::move(value);
  return f;
}

Column Int(std::int64_t v) {
  Column c(LogicalType::kInt64);
  c.AppendInt64(v);
  return c;
}
Column Double(double v) {
  Column c(LogicalType::kDouble);
  c.AppendDouble(v);
  return c;
}
Column Null(LogicalType t) {
  Column c(t);
  c.AppendNull();
  return c;
}

// Doubles are written as printf's "%.17g" wrote them before (to_chars is defined to match it):
// responses must not change by a digit, since clients compare them with training sets.
TEST(JsonWriter, DoublesMatchPrintf) {
  std::mt19937_64 rng(6);
  std::vector<double> values = {
      0.0,  -0.0, 1.0,      0.1, 1e-300, 5e-324, 1.7976931348623157e308, 123456789012345678.0,
      1e17, 1e16, 0.000123, -2.5};
  for (int i = 0; i < 20000; ++i) {
    std::uint64_t bits = rng();
    double v;
    std::memcpy(&v, &bits, sizeof(v));
    if (std::isfinite(v)) values.push_back(v);
    values.push_back(static_cast<double>(static_cast<std::int64_t>(rng() % 2000000) - 1000000) /
                     static_cast<double>(1 + rng() % 1000));
  }
  for (double v : values) {
    char expected[40];
    std::snprintf(expected, sizeof(expected), "%.17g", v);
    ASSERT_EQ(JsonValue(Double(v)), expected);
  }
}

TEST(JsonWriter, Values) {
  EXPECT_EQ(JsonValue(Int(-3)), "-3");
  EXPECT_EQ(JsonValue(Double(0.1)), "0.10000000000000001");
  EXPECT_EQ(JsonValue(Double(std::nan(""))), "\"NaN\"");
  EXPECT_EQ(JsonValue(Double(-std::numeric_limits<double>::infinity())), "\"-Infinity\"");
  EXPECT_EQ(JsonValue(Null(LogicalType::kString)), "null");
  Column s(LogicalType::kString);
  s.AppendString("a\"b\\c\n\x01");
  EXPECT_EQ(JsonValue(s), "\"a\\\"b\\\\c\\u000a\\u0001\"");
  Column ts(LogicalType::kTimestamp);
  ts.AppendTimestamp(1'709'294'400'000'000);
  EXPECT_EQ(JsonValue(ts), "\"2024-03-01T12:00:00Z\"");
  Column d(LogicalType::kDate);
  d.AppendDate(19783);
  EXPECT_EQ(JsonValue(d), "\"2024-03-01\"");
  Column b(LogicalType::kBool);
  b.AppendBool(true);
  EXPECT_EQ(JsonValue(b), "true");
}

TEST(JsonWriter, ErrorBody) {
  EXPECT_EQ(ErrorBody(400, "unknown_name", "no feature view 'x'"),
            "{\"error\":{\"code\":400,\"kind\":\"unknown_name\",\"message\":\"no feature view "
            "'x'\"}}\n");
}

TEST(RenderFeatureResponse, ShapeStatusesAndVersions) {
  FeatureRequest request;
  request.service = "fraud_model";
  request.entity_json = {R"({"user_id":1})", R"({"user_id":2})"};
  request.lookups.push_back({"user_spend", "default", {"n", "oh"}, {"1", "2"}});
  const std::map<std::string, std::string> versions = {{"n", "aaa"}, {"oh", "bbb+ccc"}};
  ViewResult r;
  r.view = "user_spend";
  r.versions = &versions;
  std::vector<engine::OnlineFeature> first;
  first.push_back(Feature("n", engine::FeatureStatus::kPresent, Int(3)));
  first.push_back(Feature("oh=red", engine::FeatureStatus::kPresent, Double(1)));
  std::vector<engine::OnlineFeature> second;
  second.push_back(Feature("n", engine::FeatureStatus::kExpired, Int(0)));
  second.push_back(Feature("oh=red", engine::FeatureStatus::kMissing, Null(LogicalType::kDouble)));
  r.entities.push_back(std::move(first));
  r.entities.push_back(std::move(second));
  const std::string body =
      RenderFeatureResponse(request, *base::ParseTimestampMicros("2024-03-01T00:00:00Z"), {r});
  EXPECT_EQ(
      body,
      "{\"at\":\"2024-03-01T00:00:00Z\",\"service\":\"fraud_model\",\"results\":["
      "{\"entity\":{\"user_id\":1},\"features\":{"
      "\"user_spend:n\":{\"value\":3,\"status\":\"present\",\"version\":\"aaa\"},"
      "\"user_spend:oh=red\":{\"value\":1,\"status\":\"present\",\"version\":\"bbb+ccc\"}}},"
      "{\"entity\":{\"user_id\":2},\"features\":{"
      "\"user_spend:n\":{\"value\":0,\"status\":\"expired\",\"version\":\"aaa\"},"
      "\"user_spend:oh=red\":{\"value\":null,\"status\":\"missing\",\"version\":\"bbb+ccc\"}}}"
      "]}\n");
}

}  // namespace
}  // namespace sluice::serve
