// An entity's stored head (RocksDB or Redis value) is read by every online look-up; a damaged
// value, or a key another program wrote, must give kCorruption or values, never a crash or a
// read past the end. Whatever decodes must encode to bytes that decode and encode to the same
// bytes again (the stream's writer re-encodes heads it read), and must evaluate without a crash
// at its newest event and later, with no parts stored or with damaged ones.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/project.h"
#include "engine/entity_state.h"
#include "engine/feature_plan.h"
#include "store/key_layout.h"

namespace {

using namespace sluice;
using engine::AggregationPlan;
using engine::FeatureViewPlan;
using engine::InputKind;
using types::LogicalType;

constexpr std::int64_t kMinute = 60'000'000;

// Every aggregation function over a number, an integer and a text input, in two windows and
// over the lifetime; tiled or not (the two head layouts).
FeatureViewPlan MakePlan(bool tiled) {
  FeatureViewPlan p;
  if (tiled) p.tile = 10 * kMinute;
  p.view = "v";
  p.entity_keys = {"user_id"};
  p.key_types = {LogicalType::kInt64};
  p.event_time = "ts";
  p.inputs = {{"amount", "amount", LogicalType::kDouble, InputKind::kNumber},
              {"qty", "qty", LogicalType::kInt64, InputKind::kInteger},
              {"merchant", "merchant", LogicalType::kString, InputKind::kText}};
  using config::AggregationFunction;
  const std::vector<std::pair<AggregationFunction, int>> fns = {
      {AggregationFunction::kCount, -1}, {AggregationFunction::kSum, 0},
      {AggregationFunction::kSum, 1},    {AggregationFunction::kMean, 0},
      {AggregationFunction::kMin, 0},    {AggregationFunction::kMax, 1},
      {AggregationFunction::kFirst, 2},  {AggregationFunction::kLast, 0},
      {AggregationFunction::kStddev, 0}, {AggregationFunction::kVariance, 1},
      {AggregationFunction::kLastK, 2},  {AggregationFunction::kApproxCountDistinct, 2}};
  const std::vector<std::optional<std::int64_t>> windows = {10 * kMinute, 60 * kMinute,
                                                            std::nullopt};
  for (const auto& window : windows) {
    for (const auto& [fn, input] : fns) {
      if (!window && fn == AggregationFunction::kApproxCountDistinct) continue;
      AggregationPlan a;
      a.name = std::string(config::Name(fn)) + "_" + std::to_string(input) + "_" +
               std::to_string(window.value_or(0));
      a.function = fn;
      a.input = input;
      a.window = window;
      a.k = 3;
      const InputKind kind = input < 0 ? InputKind::kInteger : p.inputs[input].kind;
      if (fn == AggregationFunction::kCount || fn == AggregationFunction::kApproxCountDistinct) {
        a.output_type = LogicalType::kInt64;
      } else if (fn == AggregationFunction::kMean || fn == AggregationFunction::kStddev ||
                 fn == AggregationFunction::kVariance) {
        a.output_type = LogicalType::kDouble;
      } else if (fn == AggregationFunction::kLastK) {
        a.output_type = LogicalType::kString;
      } else {
        a.output_type = kind == InputKind::kInteger  ? LogicalType::kInt64
                        : kind == InputKind::kNumber ? LogicalType::kDouble
                                                     : LogicalType::kString;
      }
      p.aggregations.push_back(a);
      if (a.window) p.max_window = std::max(p.max_window, *a.window);
    }
  }
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const FeatureViewPlan kPlans[2] = {MakePlan(false), MakePlan(true)};
  if (size < 1) return 0;
  const FeatureViewPlan& plan = kPlans[data[0] & 1];
  const bool damaged_parts = (data[0] & 2) != 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  auto state = engine::DecodeState(plan, bytes);
  if (!state.ok()) {
    if (state.status().message().empty()) __builtin_trap();
    return 0;
  }
  const std::string encoded = engine::EncodeState(plan, *state);
  auto again = engine::DecodeState(plan, encoded);
  if (!again.ok() || engine::EncodeState(plan, *again) != encoded) __builtin_trap();

  // Parts as a store may hold them: none, or the head's own bytes where a part should be.
  const engine::PartLookup parts = [&](const std::vector<store::PartKey>& keys) {
    return base::Result<std::vector<std::optional<std::string>>>(
        std::vector<std::optional<std::string>>(
            keys.size(),
            damaged_parts ? std::optional<std::string>(std::string(bytes)) : std::nullopt));
  };
  engine::StateEvaluator evaluator(plan);
  const std::int64_t newest = state->newest_event;
  for (std::int64_t later : {std::int64_t{0}, 5 * kMinute, 24 * 60 * kMinute}) {
    if (newest > std::numeric_limits<std::int64_t>::max() - later) break;
    (void)evaluator.EvaluateDecoded(*state, newest + later, "1", parts);
  }
  return 0;
}
