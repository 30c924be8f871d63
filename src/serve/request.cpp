#include "serve/request.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>

#include "base/time.h"
#include "engine/entity_state.h"
#include "serve/json_writer.h"
#include "types/column.h"

namespace sluice::serve {

namespace {

using nlohmann::json;

// JSON type names as a user writes them, for error messages.
std::string_view JsonTypeName(const json& v) {
  switch (v.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "an integer";
    case json::value_t::number_float:
      return "a fractional number";
    case json::value_t::string:
      return "a string";
    case json::value_t::array:
      return "an array";
    case json::value_t::object:
      return "an object";
    default:
      return "an invalid value";
  }
}

// A whole number outside [-2^63, 2^63): what the JSON parser makes of an integer literal too
// long for 64 bits.
bool IntegralBeyondInt64(double d) {
  return std::isfinite(d) && std::trunc(d) == d &&
         (d >= 9223372036854775808.0 || d < -9223372036854775808.0);
}

std::string Quoted(std::string_view s) {
  return "'" + std::string(s) + "'";
}

// One key value: the canonical text the engine keys its state by (Column::ValueToString, the
// same function materialization used) and its JSON form for echoing the entity back.
struct KeyValue {
  std::string text;
  std::string json_text;
};

base::Result<KeyValue> ConvertKey(const json& v, types::LogicalType type, std::string_view column,
                                  std::size_t entity) {
  const std::string where =
      "entity " + std::to_string(entity) + ", key column " + Quoted(column) + ": ";
  auto wrong = [&]() {
    return base::SchemaMismatch(where + "expected " + std::string(types::LogicalTypeName(type)) +
                                " (" +
                                (type == types::LogicalType::kInt64    ? "a JSON integer"
                                 : type == types::LogicalType::kDouble ? "a JSON number"
                                 : type == types::LogicalType::kBool   ? "true or false"
                                                                       : "a JSON string") +
                                "), got " + std::string(JsonTypeName(v)));
  };
  // The two common key types without a Column: same text as Column::ValueToString (decimal
  // digits; the bytes themselves), fewer allocations on the request path.
  if (type == types::LogicalType::kInt64 && v.is_number_integer() && !v.is_number_unsigned()) {
    KeyValue out;
    out.text = std::to_string(v.get<std::int64_t>());
    out.json_text = out.text;
    return out;
  }
  if (type == types::LogicalType::kString && v.is_string()) {
    const auto& text = v.get_ref<const std::string&>();
    if (text.find('\x1f') != std::string::npos) {
      return base::SchemaMismatch(where + "the value contains the control character U+001F");
    }
    KeyValue out;
    out.text = text;
    AppendJsonString(out.json_text, text);
    return out;
  }
  types::Column c(type);
  switch (type) {
    case types::LogicalType::kInt64:
      if (v.is_number_integer() && !v.is_number_unsigned()) {
        c.AppendInt64(v.get<std::int64_t>());
      } else if (v.is_number_unsigned()) {
        const auto u = v.get<std::uint64_t>();
        if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
          return base::SchemaMismatch(where + "integer out of the int64 range");
        }
        c.AppendInt64(static_cast<std::int64_t>(u));
      } else if (v.is_number_float() && IntegralBeyondInt64(v.get<double>())) {
        // The JSON parser keeps an integer literal too long for 64 bits as a double: it is an
        // integer, just too large, not a fractional number.
        return base::SchemaMismatch(where + "integer out of the int64 range");
      } else {
        return wrong();
      }
      break;
    case types::LogicalType::kDouble:
      if (!v.is_number()) return wrong();
      c.AppendDouble(v.get<double>());
      break;
    case types::LogicalType::kBool:
      if (!v.is_boolean()) return wrong();
      c.AppendBool(v.get<bool>());
      break;
    case types::LogicalType::kString:
      if (!v.is_string()) return wrong();
      c.AppendString(v.get_ref<const std::string&>());
      break;
    case types::LogicalType::kTimestamp:
    case types::LogicalType::kDate: {
      if (!v.is_string()) return wrong();
      auto micros = base::ParseTimestampMicros(v.get_ref<const std::string&>());
      if (!micros.ok()) return base::SchemaMismatch(where + micros.status().message());
      if (type == types::LogicalType::kTimestamp) {
        c.AppendTimestamp(*micros);
      } else {
        constexpr std::int64_t kDay = std::int64_t{86'400'000'000};
        if (*micros % kDay != 0) {
          return base::SchemaMismatch(where + "expected a date (YYYY-MM-DD), got a time of day");
        }
        c.AppendDate(static_cast<std::int32_t>(*micros / kDay));
      }
      break;
    }
  }
  KeyValue out;
  out.text = c.ValueToString(0);
  // The separator of composite key bytes: a value holding it could alias another key.
  if (out.text.find('\x1f') != std::string::npos) {
    return base::SchemaMismatch(where + "the value contains the control character U+001F");
  }
  AppendJsonValue(out.json_text, c, 0);
  return out;
}

base::Status ParseFeatureList(const json& features, const ViewSchema& view,
                              std::vector<std::string>* out) {
  if (!features.is_array()) {
    return base::InvalidArgument("\"features\" must be an array of feature names, got " +
                                 std::string(JsonTypeName(features)));
  }
  if (features.empty()) {
    return base::InvalidArgument(
        "\"features\" is empty: leave it out to read every feature of the view");
  }
  for (std::size_t i = 0; i < features.size(); ++i) {
    const json& f = features[i];
    if (!f.is_string()) {
      return base::InvalidArgument("\"features\"[" + std::to_string(i) +
                                   "] must be a string, got " + std::string(JsonTypeName(f)));
    }
    const auto& name = f.get_ref<const std::string&>();
    if (!view.HasFeature(name)) {
      return base::NotFound("feature view " + Quoted(view.name) + " has no feature " +
                            Quoted(name));
    }
    if (std::find(out->begin(), out->end(), name) == out->end()) out->push_back(name);
  }
  return base::Status::Ok();
}

base::Result<FeatureRequest> Parse(std::string_view body, const Catalog& catalog) {
  json doc;
  try {
    doc = json::parse(body.begin(), body.end());
  } catch (const json::exception& e) {
    return base::InvalidArgument(std::string("malformed JSON: ") + e.what());
  }
  if (!doc.is_object()) {
    return base::InvalidArgument("the request body must be a JSON object, got " +
                                 std::string(JsonTypeName(doc)));
  }
  for (const auto& [field, value] : doc.items()) {
    (void)value;
    if (field != "view" && field != "service" && field != "entities" && field != "features" &&
        field != "at") {
      return base::InvalidArgument("unknown field " + Quoted(field) +
                                   " (expected view or service, entities, features, at)");
    }
  }
  const bool has_view = doc.contains("view");
  const bool has_service = doc.contains("service");
  if (has_view == has_service) {
    return base::InvalidArgument(has_view ? "give either \"view\" or \"service\", not both"
                                          : "missing \"view\" or \"service\"");
  }

  FeatureRequest request;
  if (has_view) {
    const json& v = doc["view"];
    if (!v.is_string()) {
      return base::InvalidArgument("\"view\" must be a string, got " +
                                   std::string(JsonTypeName(v)));
    }
    const ViewSchema* view = catalog.FindView(v.get_ref<const std::string&>());
    if (view == nullptr) {
      return base::NotFound("no feature view " + Quoted(v.get_ref<const std::string&>()));
    }
    if (!view->unavailable.empty()) {
      return base::FailedPrecondition("feature view " + Quoted(view->name) +
                                      " cannot be served: " + view->unavailable);
    }
    ViewLookup lookup;
    lookup.view = view->name;
    lookup.store = catalog.default_store;
    if (doc.contains("features")) {
      SLUICE_RETURN_IF_ERROR(ParseFeatureList(doc["features"], *view, &lookup.features));
    } else {
      lookup.features = view->features;
    }
    lookup.all_features = lookup.features == view->features;
    request.lookups.push_back(std::move(lookup));
  } else {
    const json& s = doc["service"];
    if (!s.is_string()) {
      return base::InvalidArgument("\"service\" must be a string, got " +
                                   std::string(JsonTypeName(s)));
    }
    if (doc.contains("features")) {
      return base::InvalidArgument(
          "\"features\" applies to view requests; a feature service declares its features");
    }
    const ServiceSchema* service = catalog.FindService(s.get_ref<const std::string&>());
    if (service == nullptr) {
      return base::NotFound("no feature service " + Quoted(s.get_ref<const std::string&>()));
    }
    request.service = service->name;
    for (const auto& pair : service->features) {
      // Plain names, not a structured binding: clang before 16 cannot capture those in lambdas.
      const std::string& view_name = pair.first;
      const std::string& feature = pair.second;
      const ViewSchema* view = catalog.FindView(view_name);
      if (view == nullptr) return base::Internal("service view " + Quoted(view_name) + " vanished");
      if (!view->unavailable.empty()) {
        return base::FailedPrecondition("feature service " + Quoted(service->name) +
                                        ": feature view " + Quoted(view->name) +
                                        " cannot be served: " + view->unavailable);
      }
      auto it = std::find_if(request.lookups.begin(), request.lookups.end(),
                             [&](const ViewLookup& l) { return l.view == view_name; });
      if (it == request.lookups.end()) {
        request.lookups.push_back(ViewLookup{view_name, service->store, {}, {}});
        it = request.lookups.end() - 1;
      }
      if (std::find(it->features.begin(), it->features.end(), feature) == it->features.end()) {
        it->features.push_back(feature);
      }
    }
    for (auto& lookup : request.lookups) {
      lookup.all_features = lookup.features == catalog.FindView(lookup.view)->features;
    }
  }

  if (doc.contains("at")) {
    const json& at = doc["at"];
    if (!at.is_string()) {
      return base::InvalidArgument("\"at\" must be an ISO-8601 time string, got " +
                                   std::string(JsonTypeName(at)));
    }
    auto t = base::ParseTimestampMicros(at.get_ref<const std::string&>());
    if (!t.ok()) return base::InvalidArgument("\"at\": " + t.status().message());
    request.at = *t;
  }

  if (!doc.contains("entities")) return base::InvalidArgument("missing \"entities\"");
  const json& entities = doc["entities"];
  if (!entities.is_array()) {
    return base::InvalidArgument("\"entities\" must be an array of objects, got " +
                                 std::string(JsonTypeName(entities)));
  }
  if (entities.empty()) return base::InvalidArgument("\"entities\" is empty");
  if (entities.size() > catalog.max_entities) {
    return base::InvalidArgument("too many entities: " + std::to_string(entities.size()) +
                                 " in one request, the limit is " +
                                 std::to_string(catalog.max_entities));
  }

  // Every key column the request's views are keyed by, in order of first use.
  std::vector<std::pair<std::string, types::LogicalType>> columns;
  for (const auto& lookup : request.lookups) {
    const ViewSchema* view = catalog.FindView(lookup.view);
    for (std::size_t k = 0; k < view->keys.size(); ++k) {
      auto it = std::find_if(columns.begin(), columns.end(),
                             [&](const auto& c) { return c.first == view->keys[k]; });
      if (it == columns.end()) columns.emplace_back(view->keys[k], view->key_types[k]);
    }
  }
  for (auto& lookup : request.lookups)
    lookup.entity_keys.reserve(entities.size());
  request.entity_json.reserve(entities.size());

  std::vector<KeyValue> values(columns.size());
  for (std::size_t e = 0; e < entities.size(); ++e) {
    const json& entity = entities[e];
    if (!entity.is_object()) {
      return base::InvalidArgument("entity " + std::to_string(e) +
                                   " must be an object of key columns, got " +
                                   std::string(JsonTypeName(entity)));
    }
    for (const auto& item : entity.items()) {
      const std::string& field = item.key();
      if (std::none_of(columns.begin(), columns.end(),
                       [&](const auto& c) { return c.first == field; })) {
        return base::SchemaMismatch("entity " + std::to_string(e) + ": unknown key column " +
                                    Quoted(field) + " (the requested views are keyed by " +
                                    [&] {
                                      std::string names;
                                      for (const auto& c : columns) {
                                        names += (names.empty() ? "" : ", ") + c.first;
                                      }
                                      return names;
                                    }() +
                                    ")");
      }
    }
    std::string echo = "{";
    for (std::size_t c = 0; c < columns.size(); ++c) {
      auto it = entity.find(columns[c].first);
      if (it == entity.end()) {
        return base::SchemaMismatch("entity " + std::to_string(e) + ": missing key column " +
                                    Quoted(columns[c].first));
      }
      SLUICE_ASSIGN_OR_RETURN(values[c], ConvertKey(*it, columns[c].second, columns[c].first, e));
      if (c) echo += ',';
      AppendJsonString(echo, columns[c].first);
      echo += ':';
      echo += values[c].json_text;
    }
    echo += '}';
    request.entity_json.push_back(std::move(echo));
    for (auto& lookup : request.lookups) {
      const ViewSchema* view = catalog.FindView(lookup.view);
      std::vector<std::string> key_values;
      key_values.reserve(view->keys.size());
      for (const auto& key : view->keys) {
        for (std::size_t c = 0; c < columns.size(); ++c) {
          if (columns[c].first == key) key_values.push_back(values[c].text);
        }
      }
      lookup.entity_keys.push_back(engine::EntityKeyBytes(key_values));
    }
  }
  return request;
}

}  // namespace

base::Result<FeatureRequest> ParseFeatureRequest(std::string_view body, const Catalog& catalog) {
  try {
    return Parse(body, catalog);
  } catch (const std::exception& e) {
    // nlohmann reports some conditions by throwing from accessors; none is expected after the
    // checks above, but a refused request beats a crashed server.
    return base::InvalidArgument(std::string("invalid request: ") + e.what());
  }
}

ApiError ClassifyError(const base::Status& status) {
  switch (status.code()) {
    case base::StatusCode::kInvalidArgument:
      return {400, "invalid_request"};
    case base::StatusCode::kNotFound:
      return {400, "unknown_name"};
    case base::StatusCode::kSchemaMismatch:
      return {400, "bad_entity_key"};
    case base::StatusCode::kFailedPrecondition:
      return {503, "not_ready"};
    case base::StatusCode::kUnavailable:
    case base::StatusCode::kTimeout:
    case base::StatusCode::kIoError:
      return {503, "store_unavailable"};
    case base::StatusCode::kCorruption:
      return {500, "corrupt_state"};
    default:
      return {500, "internal"};
  }
}

}  // namespace sluice::serve
