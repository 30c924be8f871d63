// Exact expected values on a small hand-checked history (the semantics of docs/features.md).
#include "engine/window_aggregator.h"

#include <gtest/gtest.h>

#include "engine/keyed_replay.h"

namespace sluice::engine {
namespace {

using config::AggregationFunction;
using types::LogicalType;

constexpr std::int64_t kHour = 3'600'000'000;

// user 1 spends 10 at 01:00, 20 at 02:00, 30 at 02:00 (a tie), 40 at 05:00.
types::Batch Events() {
  types::Batch b(*types::Schema::Make({{"user_id", LogicalType::kInt64, true},
                                       {"ts", LogicalType::kTimestamp, true},
                                       {"amount", LogicalType::kDouble, true}}));
  const std::pair<std::int64_t, double> rows[] = {
      {5 * kHour, 40}, {1 * kHour, 10}, {2 * kHour, 20}, {2 * kHour, 30}};  // out of order
  for (const auto& [t, amount] : rows) {
    b.column(0).AppendInt64(1);
    b.column(1).AppendTimestamp(t);
    b.column(2).AppendDouble(amount);
  }
  return b;
}

FeatureViewPlan Plan(std::optional<std::int64_t> ttl = std::nullopt) {
  FeatureViewPlan p;
  p.entity_keys = {"user_id"};
  p.key_types = {LogicalType::kInt64};
  p.event_time = "ts";
  p.ttl = ttl;
  p.inputs = {{"amount", "amount", LogicalType::kDouble, InputKind::kNumber}};
  p.aggregations = {
      {"n_1h", AggregationFunction::kCount, -1, kHour, 0, LogicalType::kInt64},
      {"sum_1h", AggregationFunction::kSum, 0, kHour, 0, LogicalType::kDouble},
      {"sum_3h", AggregationFunction::kSum, 0, 3 * kHour, 0, LogicalType::kDouble},
      {"sum_all", AggregationFunction::kSum, 0, std::nullopt, 0, LogicalType::kDouble},
      {"last", AggregationFunction::kLast, 0, std::nullopt, 0, LogicalType::kDouble},
  };
  p.max_window = 3 * kHour;
  return p;
}

// Features of user `key` at each instant, as text.
std::vector<std::vector<std::string>> At(const FeatureViewPlan& plan, std::int64_t key,
                                         const std::vector<std::int64_t>& times) {
  types::Batch spine(*types::Schema::Make(
      {{"user_id", LogicalType::kInt64, true}, {"ts", LogicalType::kTimestamp, true}}));
  for (auto t : times) {
    spine.column(0).AppendInt64(key);
    spine.column(1).AppendTimestamp(t);
  }
  auto out = ReplayAsOf(plan, Events(), spine, 1, nullptr);
  EXPECT_TRUE(out.ok());
  std::vector<std::vector<std::string>> rows(times.size());
  for (auto& f : *out) {
    const types::Column c = f.ToColumn();
    for (size_t r = 0; r < times.size(); ++r)
      rows[r].push_back(c.ValueToString(r));
  }
  return rows;
}

TEST(WindowSemanticsTest, HandCheckedValues) {
  const auto rows = At(Plan(), 1, {0, 1 * kHour, 2 * kHour, 3 * kHour, 4 * kHour, 5 * kHour});
  // columns: n_1h, sum_1h, sum_3h, sum_all, last
  EXPECT_EQ(rows[0], (std::vector<std::string>{"0", "NULL", "NULL", "NULL", "NULL"}));
  // An event exactly at t counts (the window is (t - w, t]).
  EXPECT_EQ(rows[1], (std::vector<std::string>{"1", "10", "10", "10", "10"}));
  // Both events tied at 02:00 count; the 01:00 event is exactly 1h old and has left the 1h
  // window but not the 3h one.
  EXPECT_EQ(rows[2], (std::vector<std::string>{"2", "50", "60", "60", "30"}));
  EXPECT_EQ(rows[3], (std::vector<std::string>{"0", "NULL", "60", "60", "30"}));
  EXPECT_EQ(rows[4], (std::vector<std::string>{"0", "NULL", "50", "60", "30"}));
  EXPECT_EQ(rows[5], (std::vector<std::string>{"1", "40", "40", "100", "40"}));
}

TEST(WindowSemanticsTest, UnknownEntityHasZeroCountsAndNullValues) {
  const auto rows = At(Plan(), 2, {10 * kHour});
  EXPECT_EQ(rows[0], (std::vector<std::string>{"0", "NULL", "NULL", "NULL", "NULL"}));
}

TEST(WindowSemanticsTest, TtlExpiresEveryFeatureOfTheView) {
  const auto rows = At(Plan(2 * kHour), 1, {5 * kHour, 6 * kHour, 7 * kHour, 8 * kHour});
  EXPECT_EQ(rows[0][0], "1");
  EXPECT_EQ(rows[1][3], "100");  // newest event 1h old: still fresh
  // Newest event exactly ttl old: expired, like a window boundary.
  EXPECT_EQ(rows[2], (std::vector<std::string>{"NULL", "NULL", "NULL", "NULL", "NULL"}));
  EXPECT_EQ(rows[3][0], "NULL");
}

TEST(WindowSemanticsTest, NullKeysAndTimesAreCountedNotLost) {
  types::Batch events = Events();
  events.column(0).AppendNull();
  events.column(1).AppendTimestamp(kHour);
  events.column(2).AppendDouble(1);
  events.column(0).AppendInt64(1);
  events.column(1).AppendNull();
  events.column(2).AppendDouble(1);
  types::Batch spine(*types::Schema::Make(
      {{"user_id", LogicalType::kInt64, true}, {"ts", LogicalType::kTimestamp, true}}));
  spine.column(0).AppendNull();
  spine.column(1).AppendTimestamp(kHour);
  ReplayCounts counts;
  auto out = ReplayAsOf(Plan(), events, spine, 1, &counts);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(counts.events, 6);
  EXPECT_EQ(counts.events_null_key, 1);
  EXPECT_EQ(counts.events_null_time, 1);
  EXPECT_EQ(counts.spine_null_key_or_time, 1);
  EXPECT_FALSE((*out)[0].IsValid(0));
}

}  // namespace
}  // namespace sluice::engine
