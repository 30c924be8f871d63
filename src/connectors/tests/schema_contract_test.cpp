#include "connectors/schema_contract.h"

#include <gtest/gtest.h>

namespace sluice::connectors {
namespace {

using types::LogicalType;

types::Schema Declared() {
  return *types::Schema::Make({{"txn_id", LogicalType::kString, false},
                               {"amount", LogicalType::kDouble, false},
                               {"ts", LogicalType::kTimestamp, false}});
}

std::vector<ObservedColumn> Text(std::vector<std::string> names) {
  std::vector<ObservedColumn> out;
  for (auto& n : names)
    out.push_back({n, std::nullopt});
  return out;
}

TEST(SchemaContractTest, MatchingColumnsPassInAnyOrder) {
  auto r = CheckContract(Declared(), Text({"ts", "txn_id", "amount"}), ExtraColumnPolicy::kFail,
                         "a.csv");
  EXPECT_TRUE(r.ok());
  EXPECT_TRUE(r.warnings.empty());
}

TEST(SchemaContractTest, DuplicateNamesAreNamedWithTheirPositions) {
  auto r = CheckContract(Declared(), Text({"txn_id", "amount", "ts", "amount"}),
                         ExtraColumnPolicy::kKeep, "a.csv");
  ASSERT_EQ(r.errors.size(), 1U);
  EXPECT_EQ(r.errors[0],
            "a.csv: column 'amount' appears 2 times (columns 2, 4); column names must be unique");
  EXPECT_TRUE(r.kept_extra_columns.empty());

  auto cased = CheckContract(Declared(), Text({"txn_id", "amount", "ts", "TS"}),
                             ExtraColumnPolicy::kWarn, "b.csv");
  ASSERT_EQ(cased.errors.size(), 1U);
  EXPECT_EQ(cased.errors[0],
            "b.csv: columns 'ts', 'TS' (columns 3, 4) differ only in case; column names must "
            "differ in more than case");
}

TEST(SchemaContractTest, RemovedColumnIsNamed) {
  auto r = CheckContract(Declared(), Text({"txn_id", "ts"}), ExtraColumnPolicy::kFail, "a.csv");
  ASSERT_EQ(r.errors.size(), 1U);
  EXPECT_EQ(r.errors[0], "a.csv: declared column 'amount' is missing from the data");
}

TEST(SchemaContractTest, RenamedColumnSuggestsTheDeclaredName) {
  auto r =
      CheckContract(Declared(), Text({"txn_id", "amt", "ts"}), ExtraColumnPolicy::kFail, "a.csv");
  ASSERT_EQ(r.errors.size(), 1U) << r.errors[0];
  EXPECT_NE(r.errors[0].find("declared column 'amount' is missing and the data has an "
                             "unexpected column 'amt'"),
            std::string::npos);
  EXPECT_NE(r.errors[0].find("did you mean 'amount'"), std::string::npos);
}

TEST(SchemaContractTest, RetypedParquetColumnIsNamed) {
  std::vector<ObservedColumn> observed = {
      {"txn_id", "VARCHAR"}, {"amount", "VARCHAR"}, {"ts", "TIMESTAMP WITH TIME ZONE"}};
  auto r = CheckContract(Declared(), observed, ExtraColumnPolicy::kFail, "a.parquet");
  ASSERT_EQ(r.errors.size(), 1U);
  EXPECT_EQ(r.errors[0],
            "a.parquet: column 'amount' was retyped: declared double, the data has VARCHAR");
}

TEST(SchemaContractTest, ExtraColumnsFollowThePolicy) {
  auto cols = Text({"txn_id", "amount", "ts", "note"});
  auto fail = CheckContract(Declared(), cols, ExtraColumnPolicy::kFail, "a.csv");
  ASSERT_EQ(fail.errors.size(), 1U);
  EXPECT_NE(fail.errors[0].find("unexpected column 'note'"), std::string::npos);
  auto warn = CheckContract(Declared(), cols, ExtraColumnPolicy::kWarn, "a.csv");
  EXPECT_TRUE(warn.ok());
  ASSERT_EQ(warn.warnings.size(), 1U);
  EXPECT_NE(warn.warnings[0].find("ignoring undeclared column 'note'"), std::string::npos);
  auto keep = CheckContract(Declared(), cols, ExtraColumnPolicy::kKeep, "a.csv");
  EXPECT_TRUE(keep.ok());
  EXPECT_EQ(keep.kept_extra_columns, std::vector<std::string>{"note"});
}

TEST(SchemaContractTest, ReportsEveryProblemAtOnce) {
  auto r = CheckContract(Declared(), Text({"id", "extra_one"}), ExtraColumnPolicy::kFail, "f");
  // Three declared columns are missing and two undeclared ones appear; none is a likely rename.
  ASSERT_EQ(r.errors.size(), 5U);
  EXPECT_EQ(r.errors[0], "f: declared column 'txn_id' is missing from the data");
  EXPECT_EQ(r.errors[4].rfind("f: unexpected column 'extra_one'", 0), 0U);
}

TEST(SchemaContractTest, TypeCompatibility) {
  EXPECT_TRUE(TypeCompatible("INTEGER", LogicalType::kInt64));
  EXPECT_TRUE(TypeCompatible("DECIMAL(10,2)", LogicalType::kDouble));
  EXPECT_TRUE(TypeCompatible("DATE", LogicalType::kTimestamp));
  EXPECT_FALSE(TypeCompatible("DOUBLE", LogicalType::kInt64));
  EXPECT_FALSE(TypeCompatible("VARCHAR", LogicalType::kBool));
  EXPECT_FALSE(TypeCompatible("TIMESTAMP", LogicalType::kDate));
}

}  // namespace
}  // namespace sluice::connectors
