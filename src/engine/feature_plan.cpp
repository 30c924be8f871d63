#include "engine/feature_plan.h"

#include <algorithm>

#include "lake/content_hash.h"

namespace sluice::engine {

using config::AggregationFunction;
using types::LogicalType;

InputKind KindOf(LogicalType type) {
  switch (type) {
    case LogicalType::kInt64:
    case LogicalType::kBool:
    case LogicalType::kTimestamp:
    case LogicalType::kDate:
      return InputKind::kInteger;
    case LogicalType::kDouble:
      return InputKind::kNumber;
    case LogicalType::kString:
      return InputKind::kText;
  }
  return InputKind::kText;
}

int FeatureViewPlan::FindAggregation(const std::string& name) const {
  for (size_t i = 0; i < aggregations.size(); ++i) {
    if (aggregations[i].name == name) return static_cast<int>(i);
  }
  return -1;
}

namespace {

LogicalType OutputType(AggregationFunction f, const InputColumn* in) {
  switch (f) {
    case AggregationFunction::kCount:
    case AggregationFunction::kApproxCountDistinct:
      return LogicalType::kInt64;
    case AggregationFunction::kSum:
      return in && in->kind == InputKind::kInteger ? LogicalType::kInt64 : LogicalType::kDouble;
    case AggregationFunction::kMean:
    case AggregationFunction::kStddev:
    case AggregationFunction::kVariance:
      return LogicalType::kDouble;
    case AggregationFunction::kMin:
    case AggregationFunction::kMax:
    case AggregationFunction::kFirst:
    case AggregationFunction::kLast:
      // The input's own type: the newest event's timestamp stays a timestamp (the state
      // holds it as an integer, as it holds dates and booleans).
      if (in == nullptr) return LogicalType::kDouble;
      return in->kind == InputKind::kInteger  ? in->type
             : in->kind == InputKind::kNumber ? LogicalType::kDouble
                                              : LogicalType::kString;
    case AggregationFunction::kLastK:
      return LogicalType::kString;
  }
  return LogicalType::kDouble;
}

}  // namespace

base::Result<FeatureViewPlan> PlanFeatureView(
    const config::ProjectSpec& project, const config::FeatureViewSpec& view,
    const types::Schema& source_schema,
    const std::vector<std::pair<std::string, LogicalType>>& expression_types) {
  FeatureViewPlan plan;
  plan.view = view.name;
  plan.source = view.source;
  plan.filter = view.filter;
  plan.derived = view.derived;
  if (view.ttl) plan.ttl = view.ttl->count();
  if (view.tile) plan.tile = view.tile->count();
  const config::EntitySpec* entity = project.FindEntity(view.entity);
  if (entity == nullptr) {
    return base::InvalidArgument("feature view '" + view.name + "': unknown entity '" +
                                 view.entity + "'");
  }
  plan.entity_keys = entity->keys;
  for (const auto& k : plan.entity_keys) {
    auto idx = source_schema.IndexOf(k);
    if (!idx) {
      return base::InvalidArgument("feature view '" + view.name + "': the source '" + view.source +
                                   "' has no entity key column '" + k + "'");
    }
    plan.key_types.push_back(source_schema.field(*idx).type);
  }
  std::string event_time;
  if (view.event_time) {
    event_time = *view.event_time;
  } else if (const auto* src = project.FindSource(view.source); src && src->event_time) {
    event_time = *src->event_time;
  }
  if (event_time.empty()) {
    return base::InvalidArgument("feature view '" + view.name +
                                 "' needs an event time: set event_time on the view or its source");
  }
  auto ts_idx = source_schema.IndexOf(event_time);
  if (!ts_idx || (source_schema.field(*ts_idx).type != LogicalType::kTimestamp &&
                  source_schema.field(*ts_idx).type != LogicalType::kDate)) {
    return base::InvalidArgument("feature view '" + view.name + "': event time column '" +
                                 event_time + "' is not a timestamp or date column of '" +
                                 view.source + "'");
  }
  plan.event_time = event_time;

  auto find_input = [&](const std::string& name) -> base::Result<int> {
    for (size_t i = 0; i < plan.inputs.size(); ++i) {
      if (plan.inputs[i].name == name) return static_cast<int>(i);
    }
    InputColumn in;
    in.name = name;
    bool found = false;
    for (const auto& c : view.columns) {
      if (c.name == name) {
        in.sql = "(" + c.expr + ")";
        for (const auto& [n, t] : expression_types) {
          if (n == name) {
            in.type = t;
            found = true;
          }
        }
        if (!found) {
          return base::InvalidArgument("feature view '" + view.name + "': the type of column '" +
                                       name + "' is unknown");
        }
      }
    }
    if (!found) {
      auto idx = source_schema.IndexOf(name);
      if (!idx) {
        return base::InvalidArgument("feature view '" + view.name + "': no column '" + name +
                                     "' in source '" + view.source + "' or the view's columns");
      }
      in.sql = "\"" + name + "\"";
      in.type = source_schema.field(*idx).type;
    }
    in.kind = KindOf(in.type);
    plan.inputs.push_back(in);
    return static_cast<int>(plan.inputs.size() - 1);
  };

  for (const auto& a : view.aggregations) {
    AggregationPlan ap;
    ap.name = a.name;
    ap.function = a.function;
    if (a.column) {
      SLUICE_ASSIGN_OR_RETURN(ap.input, find_input(*a.column));
    } else if (a.function != AggregationFunction::kCount) {
      return base::InvalidArgument("feature view '" + view.name + "': aggregation '" + a.name +
                                   "' needs a column");
    }
    if (a.window) {
      ap.window = a.window->count();
      plan.max_window = std::max(plan.max_window, *ap.window);
    }
    ap.k = a.k.value_or(0);
    const InputColumn* in = ap.input >= 0 ? &plan.inputs[ap.input] : nullptr;
    if (in && in->kind == InputKind::kText &&
        (a.function == AggregationFunction::kSum || a.function == AggregationFunction::kMean ||
         a.function == AggregationFunction::kStddev ||
         a.function == AggregationFunction::kVariance)) {
      return base::InvalidArgument("feature view '" + view.name + "': aggregation '" + a.name +
                                   "' needs a numeric column, '" + in->name + "' is text");
    }
    ap.output_type = OutputType(a.function, in);
    plan.aggregations.push_back(ap);
  }

  // The definition hash covers everything that changes a feature value.
  std::string text = "view=" + plan.view + ";source=" + plan.source + ";ts=" + plan.event_time +
                     ";filter=" + plan.filter.value_or("") +
                     ";ttl=" + std::to_string(plan.ttl.value_or(-1));
  // Only with a tile, so views without one keep their hash (and their stored state).
  if (plan.tile) text += ";tile=" + std::to_string(*plan.tile);
  for (const auto& k : plan.entity_keys)
    text += ";key=" + k;
  for (const auto& in : plan.inputs) {
    text += ";in=" + in.name + ":" + in.sql + ":" + std::string(types::LogicalTypeName(in.type));
  }
  for (const auto& a : plan.aggregations) {
    text += ";agg=" + a.name + ":" + std::string(config::Name(a.function)) + ":" +
            std::to_string(a.input) + ":" + std::to_string(a.window.value_or(-1)) + ":" +
            std::to_string(a.k);
  }
  for (const auto& d : plan.derived)
    text += ";derived=" + d.name + ":" + d.expr;
  plan.definition_hash = lake::Sha256Hex(text);
  return plan;
}

}  // namespace sluice::engine
