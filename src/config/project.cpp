#include "config/project.h"

#include <algorithm>

#include "config/enum_words.h"

namespace sluice::config {
namespace {

template <typename E, size_t N>
std::string_view WordOf(const EnumWords<E, N>& words, E value) {
  for (const auto& w : words) {
    if (w.value == value) return w.word;
  }
  return "unknown";
}

template <typename T>
const T* FindByName(const std::vector<T>& items, std::string_view name) {
  for (const auto& item : items) {
    if (item.name == name) return &item;
  }
  return nullptr;
}

}  // namespace

base::Result<types::Schema> SourceSpec::Schema() const {
  return types::Schema::Make(columns);
}

const types::Field* SourceSpec::FindColumn(std::string_view column) const {
  for (const auto& f : columns) {
    if (f.name == column) return &f;
  }
  return nullptr;
}

std::string SourceSpec::ConsumerGroup(std::string_view project_name) const {
  if (!group.empty()) return group;
  return "sluice." + std::string(project_name) + "." + name;
}

std::vector<std::string> FeatureViewSpec::FeatureNames() const {
  std::vector<std::string> out;
  for (const auto& c : columns)
    out.push_back(c.name);
  for (const auto& a : aggregations)
    out.push_back(a.name);
  for (const auto& d : derived)
    out.push_back(d.name);
  return out;
}

const SourceSpec* ProjectSpec::FindSource(std::string_view n) const {
  return FindByName(sources, n);
}
const EntitySpec* ProjectSpec::FindEntity(std::string_view n) const {
  return FindByName(entities, n);
}
const FeatureViewSpec* ProjectSpec::FindFeatureView(std::string_view n) const {
  return FindByName(feature_views, n);
}
const TrainingSetSpec* ProjectSpec::FindTrainingSet(std::string_view n) const {
  return FindByName(training_sets, n);
}
const OnlineStoreSpec* ProjectSpec::FindOnlineStore(std::string_view n) const {
  return FindByName(online_stores, n);
}
const FeatureServiceSpec* ProjectSpec::FindFeatureService(std::string_view n) const {
  return FindByName(feature_services, n);
}
const PipelineSpec* ProjectSpec::FindPipeline(std::string_view n) const {
  return FindByName(pipelines, n);
}
bool ProjectSpec::HasModel(std::string_view n) const {
  return FindByName(models.configs, n) != nullptr ||
         std::find(models.files.begin(), models.files.end(), n) != models.files.end();
}

std::string_view Name(WarehouseType v) {
  return WordOf(kWarehouseTypeWords, v);
}
std::string_view Name(SourceType v) {
  return WordOf(kSourceTypeWords, v);
}
std::string_view Name(FileFormat v) {
  return WordOf(kFileFormatWords, v);
}
std::string_view Name(Compression v) {
  return WordOf(kCompressionWords, v);
}
std::string_view Name(LakeCompression v) {
  return WordOf(kLakeCompressionWords, v);
}
std::string_view Name(ExtraColumns v) {
  return WordOf(kExtraColumnsWords, v);
}
std::string_view Name(Materialization v) {
  return WordOf(kMaterializationWords, v);
}
std::string_view Name(ModelTestType v) {
  return WordOf(kModelTestTypeWords, v);
}
std::string_view Name(AggregationFunction v) {
  return WordOf(kAggregationFunctionWords, v);
}
std::string_view Name(TransformType v) {
  return WordOf(kTransformTypeWords, v);
}
std::string_view Name(ImputeStrategy v) {
  return WordOf(kImputeStrategyWords, v);
}
std::string_view Name(DatasetFormat v) {
  return WordOf(kDatasetFormatWords, v);
}
std::string_view Name(OnlineStoreType v) {
  return WordOf(kOnlineStoreTypeWords, v);
}
std::string_view Name(StepKind v) {
  return WordOf(kStepKindWords, v);
}
std::string_view Name(DriftMethod v) {
  return WordOf(kDriftMethodWords, v);
}
std::string_view Name(AlertSinkType v) {
  return WordOf(kAlertSinkTypeWords, v);
}
std::string_view Name(MonitorType v) {
  return WordOf(kMonitorTypeWords, v);
}
std::string_view Name(Severity v) {
  return WordOf(kSeverityWords, v);
}

}  // namespace sluice::config
