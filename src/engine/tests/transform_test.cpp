#include "engine/transform.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace sluice::engine {
namespace {

using config::ImputeStrategy;
using config::TransformSpec;
using config::TransformType;
using types::Column;
using types::LogicalType;

constexpr std::nullopt_t kNull = std::nullopt;
using D = std::optional<double>;
using I = std::optional<std::int64_t>;
using S = std::optional<std::string>;

Column Doubles(const std::vector<D>& values) {
  Column c(LogicalType::kDouble);
  for (const auto& v : values)
    v ? c.AppendDouble(*v) : c.AppendNull();
  return c;
}
Column Int64s(const std::vector<I>& values) {
  Column c(LogicalType::kInt64);
  for (const auto& v : values)
    v ? c.AppendInt64(*v) : c.AppendNull();
  return c;
}
Column Strings(const std::vector<S>& values) {
  Column c(LogicalType::kString);
  for (const auto& v : values)
    v ? c.AppendString(*v) : c.AppendNull();
  return c;
}

TransformSpec Spec(TransformType type, std::optional<ImputeStrategy> strategy = std::nullopt) {
  TransformSpec s;
  s.feature = "amount";
  s.type = type;
  s.fit_on = "train";
  s.strategy = strategy;
  return s;
}
TransformSpec Clip(std::optional<double> lower, std::optional<double> upper) {
  TransformSpec s = Spec(TransformType::kClip);
  s.lower_quantile = lower;
  s.upper_quantile = upper;
  return s;
}
TransformSpec Constant(std::string value) {
  TransformSpec s = Spec(TransformType::kImpute, ImputeStrategy::kConstant);
  s.value = std::move(value);
  return s;
}

TransformArtifact MustFit(const TransformSpec& spec, const Column& values) {
  auto a = Fit(spec, values, "ds-1");
  EXPECT_TRUE(a.ok()) << a.status().ToString();
  return a.ok() ? *a : TransformArtifact{};
}

std::vector<Column> MustApply(const TransformArtifact& a, const Column& input) {
  std::vector<Column> out = MakeOutputColumns(a, input.type());
  const base::Status s = Apply(a, input, &out);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return out;
}

// The cells of a column as text; doubles as their exact bits, so equal cells are identical bits.
std::vector<std::string> Cells(const Column& c) {
  std::vector<std::string> cells;
  for (size_t row = 0; row < c.size(); ++row) {
    if (c.type() == LogicalType::kDouble && c.IsValid(row)) {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "%a", c.GetDouble(row));
      cells.emplace_back(buf);
    } else {
      cells.push_back(c.ValueToString(row));
    }
  }
  return cells;
}

std::vector<D> DoublesOf(const Column& c) {
  std::vector<D> values;
  for (size_t row = 0; row < c.size(); ++row) {
    values.push_back(c.IsValid(row) ? D(c.GetDouble(row)) : kNull);
  }
  return values;
}
std::vector<I> Int64sOf(const Column& c) {
  std::vector<I> values;
  for (size_t row = 0; row < c.size(); ++row) {
    values.push_back(c.IsValid(row) ? I(c.GetInt64(row)) : kNull);
  }
  return values;
}

std::uint64_t Bits(double d) {
  return std::bit_cast<std::uint64_t>(d);
}

// --- fit and apply, per type, on hand-checked data --------------------------------------------

TEST(TransformTest, MinmaxScalesToUnitIntervalAndClampsOutsideTheFittedRange) {
  const TransformArtifact a = MustFit(Spec(TransformType::kMinmax), Doubles({2, 4, kNull, 6, 10}));
  EXPECT_EQ(a.min, 2);
  EXPECT_EQ(a.max, 10);
  EXPECT_EQ(a.fitted_rows, 4);
  EXPECT_EQ(a.fitted_on, "ds-1");
  const auto out = MustApply(a, Doubles({2, 6, 10, 0, 14, kNull}));
  ASSERT_EQ(out.size(), 1U);
  EXPECT_EQ(DoublesOf(out[0]), (std::vector<D>{0, 0.5, 1, 0, 1, kNull}));
}

TEST(TransformTest, MinmaxReadsInt64AndBoolAsNumbers) {
  const TransformArtifact a = MustFit(Spec(TransformType::kMinmax), Int64s({0, 4}));
  EXPECT_EQ(DoublesOf(MustApply(a, Int64s({1, 3}))[0]), (std::vector<D>{0.25, 0.75}));
  Column flags(LogicalType::kBool);
  flags.AppendBool(true);
  flags.AppendBool(false);
  const TransformArtifact b = MustFit(Spec(TransformType::kMinmax), flags);
  EXPECT_EQ(DoublesOf(MustApply(b, flags)[0]), (std::vector<D>{1, 0}));
}

TEST(TransformTest, MinmaxOfAConstantColumnMapsEverythingToZero) {
  const TransformArtifact a = MustFit(Spec(TransformType::kMinmax), Doubles({3, 3, 3}));
  EXPECT_EQ(DoublesOf(MustApply(a, Doubles({3, -1, 7, kNull}))[0]),
            (std::vector<D>{0, 0, 0, kNull}));
}

TEST(TransformTest, ZscoreUsesThePopulationStddev) {
  const TransformArtifact a =
      MustFit(Spec(TransformType::kZscore), Doubles({2, 4, 4, kNull, 4, 5, 5, 7, 9}));
  EXPECT_EQ(a.mean, 5);
  EXPECT_EQ(a.stddev, 2);
  EXPECT_EQ(a.min, 2);
  EXPECT_EQ(a.max, 9);
  EXPECT_EQ(a.fitted_rows, 8);
  EXPECT_EQ(DoublesOf(MustApply(a, Doubles({5, 9, 1, 15, kNull}))[0]),
            (std::vector<D>{0, 2, -2, 5, kNull}));
}

TEST(TransformTest, ZscoreOfAConstantColumnIsExactlyZero) {
  // 0.1 * 3 / 3 is not 0.1 in floating point; the fit must still see no spread at all.
  const TransformArtifact a = MustFit(Spec(TransformType::kZscore), Doubles({0.1, 0.1, 0.1}));
  EXPECT_EQ(Bits(a.mean), Bits(0.1));
  EXPECT_EQ(Bits(a.stddev), Bits(0.0));
  EXPECT_EQ(DoublesOf(MustApply(a, Doubles({0.1, 5}))[0]), (std::vector<D>{0, 0}));
}

TEST(TransformTest, ZscoreStaysAccurateFarFromZero) {
  const TransformArtifact a =
      MustFit(Spec(TransformType::kZscore), Doubles({1e9 + 4, 1e9 + 7, 1e9 + 13, 1e9 + 16}));
  EXPECT_EQ(a.mean, 1e9 + 10);
  EXPECT_DOUBLE_EQ(a.stddev, std::sqrt(22.5));
}

TEST(TransformTest, ZscoreFitsValuesWhoseSquaresWouldOverflow) {
  const TransformArtifact a = MustFit(Spec(TransformType::kZscore), Doubles({-1.5e308, 1.5e308}));
  EXPECT_EQ(a.mean, 0);
  EXPECT_EQ(a.stddev, 1.5e308);
  EXPECT_EQ(DoublesOf(MustApply(a, Doubles({1.5e308, 0}))[0]), (std::vector<D>{1, 0}));
}

TEST(TransformTest, ClipClampsAtLowerNearestRankQuantiles) {
  // 11 values 1..11: q=0.1 -> sorted[floor(0.1*10)] = sorted[1] = 2; q=0.9 -> sorted[9] = 10.
  const TransformArtifact a =
      MustFit(Clip(0.1, 0.9), Int64s({11, 1, 2, 3, 4, kNull, 5, 6, 7, 8, 9, 10}));
  EXPECT_EQ(a.lower, 2);
  EXPECT_EQ(a.upper, 10);
  EXPECT_EQ(a.lower_quantile, 0.1);
  EXPECT_EQ(a.upper_quantile, 0.9);
  EXPECT_EQ(a.min, 1);
  EXPECT_EQ(a.max, 11);
  EXPECT_EQ(DoublesOf(MustApply(a, Int64s({0, 5, 100, kNull}))[0]),
            (std::vector<D>{2, 5, 10, kNull}));
}

TEST(TransformTest, ClipQuantilesDefaultToTheExtremes) {
  const TransformArtifact upper_only = MustFit(Clip(kNull, 0.5), Doubles({1, 2, 3, 4}));
  EXPECT_EQ(upper_only.lower_quantile, 0);
  EXPECT_EQ(upper_only.lower, 1);
  EXPECT_EQ(upper_only.upper, 2);  // floor(0.5 * 3) = 1: the lower middle value
  const TransformArtifact lower_only = MustFit(Clip(0.5, kNull), Doubles({1, 2, 3, 4}));
  EXPECT_EQ(lower_only.upper_quantile, 1);
  EXPECT_EQ(lower_only.lower, 2);
  EXPECT_EQ(lower_only.upper, 4);
}

TEST(TransformTest, ImputeFillsNullsWithTheFittedMeanOrMedian) {
  const Column train = Int64s({1, 2, kNull, 3, 10});
  const TransformArtifact mean =
      MustFit(Spec(TransformType::kImpute, ImputeStrategy::kMean), train);
  EXPECT_EQ(mean.fill, 4);
  EXPECT_EQ(mean.fitted_rows, 4);
  const TransformArtifact median =
      MustFit(Spec(TransformType::kImpute, ImputeStrategy::kMedian), train);
  EXPECT_EQ(median.fill, 2);  // even count: the lower middle value
  EXPECT_EQ(DoublesOf(MustApply(median, Int64s({kNull, 7, kNull}))[0]), (std::vector<D>{2, 7, 2}));
  EXPECT_EQ(OutputFields(median, LogicalType::kInt64),
            (std::vector<types::Field>{{"amount", LogicalType::kDouble, false}}));
}

TEST(TransformTest, ImputeConstantNeedsNoDataAndKeepsTextAsText) {
  const TransformArtifact number = MustFit(Constant("-1.5"), Doubles({}));
  EXPECT_FALSE(number.fill_is_text);
  EXPECT_EQ(number.fill, -1.5);
  EXPECT_EQ(number.fitted_rows, 0);
  EXPECT_EQ(DoublesOf(MustApply(number, Doubles({kNull, 3}))[0]), (std::vector<D>{-1.5, 3}));

  const TransformArtifact text = MustFit(Constant("missing"), Strings({"a", kNull}));
  EXPECT_TRUE(text.fill_is_text);
  EXPECT_EQ(text.fill_text, "missing");
  EXPECT_EQ(text.fitted_rows, 1);
  EXPECT_EQ(OutputFields(text, LogicalType::kString),
            (std::vector<types::Field>{{"amount", LogicalType::kString, false}}));
  EXPECT_EQ(Cells(MustApply(text, Strings({kNull, "b", ""}))[0]),
            (std::vector<std::string>{"missing", "b", ""}));
}

TEST(TransformTest, OrdinalMapsUnseenValuesAndNullToTheUnknownBucket) {
  const TransformArtifact a =
      MustFit(Spec(TransformType::kOrdinal), Strings({"b", "a", kNull, "c", "a"}));
  EXPECT_EQ(a.categories, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(a.fitted_rows, 4);
  EXPECT_EQ(OutputFields(a, LogicalType::kString),
            (std::vector<types::Field>{{"amount", LogicalType::kInt64, false}}));
  EXPECT_EQ(Int64sOf(MustApply(a, Strings({"a", "c", "z", kNull, "b"}))[0]),
            (std::vector<I>{1, 3, 0, 0, 2}));
}

TEST(TransformTest, OnehotHasOneColumnPerCategoryPlusUnknown) {
  TransformSpec spec = Spec(TransformType::kOnehot);
  spec.feature = "country";
  const TransformArtifact a = MustFit(spec, Strings({"us", "de", "us", kNull}));
  EXPECT_EQ(OutputFields(a, LogicalType::kString),
            (std::vector<types::Field>{{"country=de", LogicalType::kInt64, false},
                                       {"country=us", LogicalType::kInt64, false},
                                       {"country=__unknown__", LogicalType::kInt64, false}}));
  const auto out = MustApply(a, Strings({"de", "us", "fr", kNull}));
  ASSERT_EQ(out.size(), 3U);
  EXPECT_EQ(Int64sOf(out[0]), (std::vector<I>{1, 0, 0, 0}));
  EXPECT_EQ(Int64sOf(out[1]), (std::vector<I>{0, 1, 0, 0}));
  EXPECT_EQ(Int64sOf(out[2]), (std::vector<I>{0, 0, 1, 1}));
}

TEST(TransformTest, CategoriesOfNumbersAreTheirTextSortedByBytes) {
  const TransformArtifact a = MustFit(Spec(TransformType::kOrdinal), Int64s({10, 9, 10, kNull}));
  EXPECT_EQ(a.categories, (std::vector<std::string>{"10", "9"}));
  EXPECT_EQ(Int64sOf(MustApply(a, Int64s({9, 10, 11}))[0]), (std::vector<I>{2, 1, 0}));
  const TransformArtifact d = MustFit(Spec(TransformType::kOnehot), Doubles({0.5, 0.1}));
  EXPECT_EQ(d.categories, (std::vector<std::string>{"0.10000000000000001", "0.5"}));
  EXPECT_EQ(Int64sOf(MustApply(d, Doubles({0.1}))[0]), (std::vector<I>{1}));
}

TEST(TransformTest, NanPropagatesAndInfinityClamps) {
  const TransformArtifact a = MustFit(Spec(TransformType::kMinmax), Doubles({0, 10}));
  const auto out = MustApply(a, Doubles({std::nan(""), std::numeric_limits<double>::infinity()}));
  EXPECT_TRUE(std::isnan(*DoublesOf(out[0])[0]));
  EXPECT_EQ(DoublesOf(out[0])[1], 1);
}

// --- fit errors --------------------------------------------------------------------------------

struct BadFit {
  TransformSpec spec;
  Column values;
  std::string error;
};

TEST(TransformTest, FitRejectsWhatCannotBeFittedNamingTheProblem) {
  Column stamps(LogicalType::kTimestamp);
  stamps.AppendTimestamp(0);
  TransformSpec no_strategy = Spec(TransformType::kImpute);
  TransformSpec no_value = Spec(TransformType::kImpute, ImputeStrategy::kConstant);
  const BadFit cases[] = {
      {Spec(TransformType::kMinmax), Strings({"a"}),
       "minmax transform of 'amount' needs a double, int64 or bool column, got string"},
      {Spec(TransformType::kZscore), stamps, "got timestamp"},
      {Spec(TransformType::kImpute, ImputeStrategy::kMean), Strings({"a"}), "got string"},
      {Spec(TransformType::kZscore), Doubles({kNull, kNull}), "no non-null values to fit on"},
      {Spec(TransformType::kOnehot), Strings({}), "no non-null values to fit on"},
      {Spec(TransformType::kMinmax), Doubles({1, std::nan("")}), "non-finite value nan at row 1"},
      {Clip(0.5, 0.5), Doubles({1}), "lower_quantile must be less than upper_quantile"},
      {Clip(-0.1, kNull), Doubles({1}), "lower_quantile must be in [0, 1]"},
      {Clip(kNull, 1.5), Doubles({1}), "upper_quantile must be in [0, 1]"},
      {no_strategy, Doubles({1}), "impute needs a strategy"},
      {no_value, Doubles({1}), "strategy constant needs a value"},
      {Constant("abc"), Doubles({1}), "value 'abc' is not a finite number"},
      {Spec(TransformType::kOnehot), Strings({"__unknown__"}), "collides with the unknown bucket"},
      {Spec(TransformType::kOrdinal), Strings({"\xff"}), "not valid UTF-8"},
  };
  for (const auto& c : cases) {
    auto a = Fit(c.spec, c.values, "ds-1");
    ASSERT_FALSE(a.ok()) << c.error;
    EXPECT_EQ(a.status().code(), base::StatusCode::kInvalidArgument);
    EXPECT_NE(a.status().message().find(c.error), std::string::npos)
        << a.status().message() << "\n  expected: " << c.error;
  }
}

// --- determinism -------------------------------------------------------------------------------

TEST(TransformTest, FitDependsOnTheValuesNotTheirOrder) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> spread(-1e6, 1e6);
  std::vector<D> values = {0.0, -0.0, 0.1, 0.2, 0.3, 1e-300, -1e-300, 5e-324, kNull, kNull};
  for (int i = 0; i < 500; ++i)
    values.push_back(spread(rng));
  for (int i = 0; i < 100; ++i)
    values.push_back(std::floor(spread(rng) / 1e5));  // duplicates
  const TransformSpec specs[] = {Spec(TransformType::kMinmax),
                                 Spec(TransformType::kZscore),
                                 Clip(0.05, 0.95),
                                 Spec(TransformType::kImpute, ImputeStrategy::kMean),
                                 Spec(TransformType::kImpute, ImputeStrategy::kMedian),
                                 Spec(TransformType::kOnehot),
                                 Spec(TransformType::kOrdinal)};
  for (const auto& spec : specs) {
    const std::string id = ArtifactId(MustFit(spec, Doubles(values)));
    for (int round = 0; round < 10; ++round) {
      std::vector<D> shuffled = values;
      std::shuffle(shuffled.begin(), shuffled.end(), rng);
      EXPECT_EQ(ArtifactId(MustFit(spec, Doubles(shuffled))), id) << config::Name(spec.type);
    }
  }
}

TEST(TransformTest, TheSignOfAZeroDoesNotDependOnOrder) {
  const TransformArtifact a = MustFit(Spec(TransformType::kMinmax), Doubles({0.0, -0.0}));
  const TransformArtifact b = MustFit(Spec(TransformType::kMinmax), Doubles({-0.0, 0.0}));
  EXPECT_EQ(ToJson(a), ToJson(b));
  EXPECT_TRUE(std::signbit(a.min));
  EXPECT_FALSE(std::signbit(a.max));
}

TEST(TransformTest, ArtifactIdIsTheSha256OfTheCanonicalJson) {
  TransformArtifact a = MustFit(Spec(TransformType::kMinmax), Doubles({1, 2}));
  const std::string id = ArtifactId(a);
  EXPECT_EQ(id.size(), 64U);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
  a.fitted_on = "ds-2";
  EXPECT_NE(ArtifactId(a), id);
  a.fitted_on = "ds-1";
  a.mean = 42;  // not used by minmax, so not part of the artifact
  EXPECT_EQ(ArtifactId(a), id);
}

// --- JSON --------------------------------------------------------------------------------------

TEST(TransformTest, CanonicalJsonHasAFixedLayout) {
  TransformSpec spec = Spec(TransformType::kMinmax);
  EXPECT_EQ(ToJson(MustFit(spec, Doubles({0.5, -2}))),
            R"({"format_version":1,"feature":"amount","type":"minmax","fitted_on":"ds-1",)"
            R"("fitted_rows":2,"min":-2.0,"max":0.5})");
  EXPECT_EQ(ToJson(MustFit(Clip(0.25, kNull), Int64s({1, 2, 3}))),
            R"({"format_version":1,"feature":"amount","type":"clip","fitted_on":"ds-1",)"
            R"("fitted_rows":3,"lower_quantile":0.25,"upper_quantile":1.0,"lower":1.0,)"
            R"("upper":3.0,"min":1.0,"max":3.0})");
  EXPECT_EQ(ToJson(MustFit(Spec(TransformType::kOnehot), Strings({"b", "a\""}))),
            R"({"format_version":1,"feature":"amount","type":"onehot","fitted_on":"ds-1",)"
            R"("fitted_rows":2,"categories":["a\"","b"]})");
  EXPECT_EQ(ToJson(MustFit(Constant("n/a"), Strings({}))),
            R"({"format_version":1,"feature":"amount","type":"impute","strategy":"constant",)"
            R"("fitted_on":"ds-1","fitted_rows":0,"fill":"n/a"})");
}

TEST(TransformTest, EveryTypeRoundTripsThroughJson) {
  const Column numbers = Doubles({0.1, 7.25, kNull, -3});
  const TransformArtifact artifacts[] = {
      MustFit(Spec(TransformType::kMinmax), numbers),
      MustFit(Spec(TransformType::kZscore), numbers),
      MustFit(Clip(0.1, 0.9), numbers),
      MustFit(Spec(TransformType::kImpute, ImputeStrategy::kMean), numbers),
      MustFit(Spec(TransformType::kImpute, ImputeStrategy::kMedian), numbers),
      MustFit(Constant("12"), numbers),
      MustFit(Constant("unknown"), Strings({"x"})),
      MustFit(Spec(TransformType::kOnehot), Strings({"x", "y", "\xc3\xa9t\xc3\xa9"})),
      MustFit(Spec(TransformType::kOrdinal), numbers),
  };
  for (const auto& a : artifacts) {
    auto back = ParseTransformArtifact(ToJson(a));
    ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << ToJson(a);
    EXPECT_EQ(*back, a) << ToJson(a);
    EXPECT_EQ(ToJson(*back), ToJson(a));
  }
}

TEST(TransformTest, JsonNumbersRoundTripToTheIdenticalBits) {
  std::vector<double> tricky = {0.1,
                                0.2,
                                1.0 / 3,
                                1e-300,
                                -0.0,
                                0.0,
                                std::numeric_limits<double>::denorm_min(),
                                -std::numeric_limits<double>::denorm_min(),
                                2.2250738585072009e-308,  // largest subnormal
                                std::numeric_limits<double>::min(),
                                std::numeric_limits<double>::max(),
                                -std::numeric_limits<double>::max(),
                                9007199254740993.0,
                                123456789012345678.0,
                                1e23};
  std::mt19937_64 rng(7);
  while (tricky.size() < 20000) {
    const double d = std::bit_cast<double>(rng());
    if (std::isfinite(d)) tricky.push_back(d);
  }
  for (double d : tricky) {
    TransformArtifact a;
    a.feature = "x";
    a.type = TransformType::kImpute;
    a.strategy = ImputeStrategy::kMean;
    a.fill = a.min = a.max = d;
    const std::string json = ToJson(a);
    auto back = ParseTransformArtifact(json);
    ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << json;
    ASSERT_EQ(Bits(back->fill), Bits(d)) << json;
    ASSERT_EQ(Bits(back->min), Bits(d)) << json;
    ASSERT_EQ(ToJson(*back), json);
  }
}

struct BadJson {
  std::string find;     // replaced in a good zscore artifact's JSON...
  std::string replace;  // ...by this
  std::string error;
};

TEST(TransformTest, ParseRejectsDamagedArtifactsNamingTheKey) {
  const std::string good =
      ToJson(MustFit(Spec(TransformType::kZscore), Doubles({1, 2, 3})));  // mean 2, stddev ~0.8
  ASSERT_TRUE(ParseTransformArtifact(good).ok());
  const BadJson cases[] = {
      {"{", "[", "not valid JSON"},
      {good, "[1,2]", "expected a JSON object"},
      {good, "", "not valid JSON"},
      {"\"max\":3.0}", "\"max\":3.0} x", "not valid JSON"},
      {"\"format_version\":1", "\"format_version\":2", "format_version 2 is not supported"},
      {"\"format_version\":1,", "", "key 'format_version' is missing"},
      {"\"feature\":\"amount\",", "", "key 'feature' is missing"},
      {"\"feature\":\"amount\"", "\"feature\":7", "key 'feature' must be a string"},
      {"\"zscore\"", "\"scale\"", "key 'type' has unknown value 'scale'"},
      {"\"type\":\"zscore\"", "\"type\":null", "key 'type' must be a string"},
      {"\"fitted_on\":\"ds-1\",", "", "key 'fitted_on' is missing"},
      {"\"fitted_rows\":3", "\"fitted_rows\":3.5", "key 'fitted_rows' must be an integer"},
      {"\"fitted_rows\":3", "\"fitted_rows\":-1", "key 'fitted_rows' must not be negative"},
      {"\"fitted_rows\":3", "\"fitted_rows\":18446744073709551615",
       "key 'fitted_rows' is out of range"},
      {"\"mean\":2.0", "\"mean\":\"2\"", "key 'mean' must be a number"},
      {"\"mean\":2.0", "\"mean\":true", "key 'mean' must be a number"},
      {"\"mean\":2.0", "\"mean\":1e999", "not valid JSON: [json.exception.out_of_range.406]"},
      {"\"mean\":2.0,", "", "key 'mean' is missing"},
      {"\"stddev\":", "\"stddev\":-1,\"x\":", "key 'x' is not used by zscore transforms"},
      {"\"mean\":", "\"categories\":[],\"mean\":", "key 'categories' is not used by zscore"},
      {"\"max\":3.0", "\"max\":0.5", "key 'max' must not be less than min"},
  };
  for (const auto& c : cases) {
    std::string json = good;
    const size_t at = json.find(c.find);
    ASSERT_NE(at, std::string::npos) << c.find;
    json.replace(at, c.find.size(), c.replace);
    auto a = ParseTransformArtifact(json);
    ASSERT_FALSE(a.ok()) << json;
    EXPECT_EQ(a.status().code(), base::StatusCode::kCorruption);
    EXPECT_NE(a.status().message().find(c.error), std::string::npos)
        << a.status().message() << "\n  expected: " << c.error << "\n  in: " << json;
  }
}

TEST(TransformTest, ParseChecksEachTypesOwnKeys) {
  const std::string head = R"({"format_version":1,"feature":"f","type":)";
  const std::string fitted = R"("fitted_on":"d","fitted_rows":1)";
  const BadJson cases[] = {
      {"", R"("impute",)" + fitted + R"(,"fill":1})", "key 'strategy' is missing"},
      {"", R"("impute","strategy":"mode",)" + fitted + R"(,"fill":1})",
       "key 'strategy' has unknown value 'mode'"},
      {"", R"("impute","strategy":"mean",)" + fitted + R"(,"fill":"x","min":0,"max":1})",
       "key 'fill' must be a number"},
      {"", R"("minmax","strategy":"mean",)" + fitted + R"(,"min":0,"max":1})",
       "key 'strategy' is not used by minmax transforms"},
      {"", R"("ordinal",)" + fitted + R"(,"categories":["b","a"]})",
       "key 'categories' must be sorted and distinct"},
      {"", R"("ordinal",)" + fitted + R"(,"categories":["a","a"]})",
       "key 'categories' must be sorted and distinct"},
      {"", R"("ordinal",)" + fitted + R"(,"categories":"a"})",
       "key 'categories' must be a list of strings"},
      {"", R"("onehot",)" + fitted + R"(,"categories":[1]})",
       "key 'categories' must be a list of strings"},
      {"", R"("onehot",)" + fitted + R"(,"categories":["__unknown__"]})",
       "key 'categories' must not contain the unknown bucket's name"},
      {"",
       R"("clip",)" + fitted +
           R"(,"lower_quantile":0.5,"upper_quantile":0.5,"lower":1,"upper":2,"min":0,"max":3})",
       "key 'upper_quantile' must be greater than lower_quantile"},
      {"",
       R"("clip",)" + fitted +
           R"(,"lower_quantile":-1,"upper_quantile":0.5,"lower":1,"upper":2,"min":0,"max":3})",
       "key 'lower_quantile' must be in [0, 1]"},
      {"",
       R"("clip",)" + fitted +
           R"(,"lower_quantile":0,"upper_quantile":1,"lower":2,"upper":1,"min":0,"max":3})",
       "key 'upper' must not be less than lower"},
      {"", R"("zscore",)" + fitted + R"(,"mean":0,"stddev":-1,"min":0,"max":0})",
       "key 'stddev' must not be negative"},
  };
  for (const auto& c : cases) {
    const std::string json = head + c.replace;
    auto a = ParseTransformArtifact(json);
    ASSERT_FALSE(a.ok()) << json;
    EXPECT_NE(a.status().message().find(c.error), std::string::npos)
        << a.status().message() << "\n  expected: " << c.error << "\n  in: " << json;
  }
}

TEST(TransformTest, ParseAcceptsAnyKeyOrderAndIntegerSpellings) {
  auto a = ParseTransformArtifact(
      R"({ "max": 4, "min": -1, "fitted_rows": 2, "fitted_on": "d", "type": "minmax",)"
      R"( "feature": "f", "format_version": 1 })");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(ToJson(*a), R"({"format_version":1,"feature":"f","type":"minmax","fitted_on":"d",)"
                        R"("fitted_rows":2,"min":-1.0,"max":4.0})");
}

// --- apply: the serving path and misuse ---------------------------------------------------------

// The online path calls Apply on one row at a time; it must give the training set's bits.
TEST(TransformTest, ApplyingRowByRowEqualsApplyingTheWholeColumn) {
  const Column numbers = Doubles({0.1, 7.25, kNull, -3, 1e9, -0.0, 0.3});
  const Column probe = Doubles({0.1, kNull, 100, -100, 0.0, -0.0, 7.25, 2.5, 1e-300});
  const Column words = Strings({"x", "y", kNull, "x"});
  const Column word_probe = Strings({"y", kNull, "z", "x", ""});
  struct Case {
    TransformArtifact a;
    const Column& probe;
  };
  const Case cases[] = {
      {MustFit(Spec(TransformType::kMinmax), numbers), probe},
      {MustFit(Spec(TransformType::kZscore), numbers), probe},
      {MustFit(Clip(0.2, 0.8), numbers), probe},
      {MustFit(Spec(TransformType::kImpute, ImputeStrategy::kMean), numbers), probe},
      {MustFit(Spec(TransformType::kImpute, ImputeStrategy::kMedian), numbers), probe},
      {MustFit(Spec(TransformType::kOrdinal), numbers), probe},
      {MustFit(Spec(TransformType::kOnehot), numbers), probe},
      {MustFit(Spec(TransformType::kOnehot), words), word_probe},
      {MustFit(Spec(TransformType::kOrdinal), words), word_probe},
      {MustFit(Constant("none"), words), word_probe},
  };
  for (const auto& c : cases) {
    const auto whole = MustApply(c.a, c.probe);
    // The serving path appends one row per call to the same columns.
    auto served = MakeOutputColumns(c.a, c.probe.type());
    for (size_t row = 0; row < c.probe.size(); ++row) {
      Column one(c.probe.type());
      if (!c.probe.IsValid(row)) {
        one.AppendNull();
      } else if (c.probe.type() == LogicalType::kString) {
        one.AppendString(c.probe.GetString(row));
      } else {
        one.AppendDouble(c.probe.GetDouble(row));
      }
      ASSERT_TRUE(Apply(c.a, one, &served).ok());
    }
    ASSERT_EQ(served.size(), whole.size());
    for (size_t i = 0; i < whole.size(); ++i) {
      EXPECT_EQ(Cells(served[i]), Cells(whole[i])) << ToJson(c.a);
    }
  }
}

TEST(TransformTest, ApplyRejectsMismatchedInputsAndOutputsWithoutWriting) {
  const TransformArtifact minmax = MustFit(Spec(TransformType::kMinmax), Doubles({0, 1}));
  std::vector<Column> out = MakeOutputColumns(minmax, LogicalType::kDouble);
  base::Status s = Apply(minmax, Strings({"a"}), &out);
  EXPECT_EQ(s.code(), base::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("needs a double, int64 or bool column, got string"), std::string::npos)
      << s.message();

  std::vector<Column> none;
  s = Apply(minmax, Doubles({1}), &none);
  EXPECT_NE(s.message().find("produces 1 columns, but 0 were given"), std::string::npos)
      << s.message();

  std::vector<Column> wrong;
  wrong.emplace_back(LogicalType::kInt64);
  s = Apply(minmax, Doubles({1}), &wrong);
  EXPECT_NE(s.message().find("output column 'amount' must be double"), std::string::npos)
      << s.message();
  EXPECT_EQ(wrong[0].size(), 0U);

  const TransformArtifact text = MustFit(Constant("n/a"), Strings({}));
  std::vector<Column> text_out = MakeOutputColumns(text, LogicalType::kDouble);
  s = Apply(text, Doubles({1}), &text_out);
  EXPECT_NE(s.message().find("has a text fill and needs a string column"), std::string::npos)
      << s.message();
  EXPECT_EQ(out[0].size(), 0U);
}

}  // namespace
}  // namespace sluice::engine
