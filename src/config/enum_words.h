#pragma once

#include <array>
#include <string_view>

#include "config/project.h"

// The words project files use for each enum value: one table drives both parsing (with "did you
// mean") and Name(). Internal to config.
namespace sluice::config {

template <typename E>
struct EnumWord {
  std::string_view word;
  E value;
};

template <typename E, size_t N>
using EnumWords = std::array<EnumWord<E>, N>;

inline constexpr EnumWords<WarehouseType, 2> kWarehouseTypeWords{
    {{"duckdb", WarehouseType::kDuckdb}, {"postgres", WarehouseType::kPostgres}}};
inline constexpr EnumWords<SourceType, 3> kSourceTypeWords{{{"file", SourceType::kFile},
                                                            {"postgres", SourceType::kPostgres},
                                                            {"kafka", SourceType::kKafka}}};
inline constexpr EnumWords<FileFormat, 3> kFileFormatWords{
    {{"csv", FileFormat::kCsv}, {"jsonl", FileFormat::kJsonl}, {"parquet", FileFormat::kParquet}}};
inline constexpr EnumWords<Compression, 4> kCompressionWords{{{"auto", Compression::kAuto},
                                                              {"none", Compression::kNone},
                                                              {"gzip", Compression::kGzip},
                                                              {"zstd", Compression::kZstd}}};
inline constexpr EnumWords<LakeCompression, 4> kLakeCompressionWords{
    {{"zstd", LakeCompression::kZstd},
     {"lz4", LakeCompression::kLz4},
     {"snappy", LakeCompression::kSnappy},
     {"none", LakeCompression::kNone}}};
inline constexpr EnumWords<ExtraColumns, 3> kExtraColumnsWords{
    {{"fail", ExtraColumns::kFail}, {"warn", ExtraColumns::kWarn}, {"keep", ExtraColumns::kKeep}}};
inline constexpr EnumWords<KafkaStart, 2> kKafkaStartWords{
    {{"earliest", KafkaStart::kEarliest}, {"latest", KafkaStart::kLatest}}};
inline constexpr EnumWords<Materialization, 3> kMaterializationWords{
    {{"view", Materialization::kView},
     {"table", Materialization::kTable},
     {"incremental", Materialization::kIncremental}}};
inline constexpr EnumWords<ModelTestType, 7> kModelTestTypeWords{
    {{"not_null", ModelTestType::kNotNull},
     {"unique", ModelTestType::kUnique},
     {"accepted_values", ModelTestType::kAcceptedValues},
     {"relationships", ModelTestType::kRelationships},
     {"row_count", ModelTestType::kRowCount},
     {"freshness", ModelTestType::kFreshness},
     {"sql", ModelTestType::kSql}}};
inline constexpr EnumWords<AggregationFunction, 11> kAggregationFunctionWords{
    {{"count", AggregationFunction::kCount},
     {"sum", AggregationFunction::kSum},
     {"mean", AggregationFunction::kMean},
     {"min", AggregationFunction::kMin},
     {"max", AggregationFunction::kMax},
     {"stddev", AggregationFunction::kStddev},
     {"variance", AggregationFunction::kVariance},
     {"first", AggregationFunction::kFirst},
     {"last", AggregationFunction::kLast},
     {"last_k", AggregationFunction::kLastK},
     {"approx_count_distinct", AggregationFunction::kApproxCountDistinct}}};
inline constexpr EnumWords<TransformType, 6> kTransformTypeWords{
    {{"minmax", TransformType::kMinmax},
     {"zscore", TransformType::kZscore},
     {"onehot", TransformType::kOnehot},
     {"ordinal", TransformType::kOrdinal},
     {"impute", TransformType::kImpute},
     {"clip", TransformType::kClip}}};
inline constexpr EnumWords<ImputeStrategy, 3> kImputeStrategyWords{
    {{"mean", ImputeStrategy::kMean},
     {"median", ImputeStrategy::kMedian},
     {"constant", ImputeStrategy::kConstant}}};
inline constexpr EnumWords<DatasetFormat, 2> kDatasetFormatWords{
    {{"parquet", DatasetFormat::kParquet}, {"csv", DatasetFormat::kCsv}}};
inline constexpr EnumWords<OnlineStoreType, 2> kOnlineStoreTypeWords{
    {{"rocksdb", OnlineStoreType::kRocksdb}, {"redis", OnlineStoreType::kRedis}}};
inline constexpr EnumWords<StepKind, 9> kStepKindWords{{{"ingest", StepKind::kIngest},
                                                        {"build", StepKind::kBuild},
                                                        {"test", StepKind::kTest},
                                                        {"training_set", StepKind::kTrainingSet},
                                                        {"materialize", StepKind::kMaterialize},
                                                        {"profile", StepKind::kProfile},
                                                        {"drift", StepKind::kDrift},
                                                        {"monitor", StepKind::kMonitor},
                                                        {"command", StepKind::kCommand}}};
inline constexpr EnumWords<DriftMethod, 7> kDriftMethodWords{
    {{"auto", DriftMethod::kAuto},
     {"ks", DriftMethod::kKs},
     {"wasserstein", DriftMethod::kWasserstein},
     {"psi", DriftMethod::kPsi},
     {"jensenshannon", DriftMethod::kJensenShannon},
     {"chisquare", DriftMethod::kChiSquare},
     {"ztest", DriftMethod::kZTest}}};
inline constexpr EnumWords<AlertSinkType, 2> kAlertSinkTypeWords{
    {{"webhook", AlertSinkType::kWebhook}, {"log", AlertSinkType::kLog}}};
inline constexpr EnumWords<MonitorType, 2> kMonitorTypeWords{
    {{"drift", MonitorType::kDrift}, {"metric", MonitorType::kMetric}}};
inline constexpr EnumWords<Severity, 3> kSeverityWords{{{"info", Severity::kInfo},
                                                        {"warning", Severity::kWarning},
                                                        {"critical", Severity::kCritical}}};

}  // namespace sluice::config
