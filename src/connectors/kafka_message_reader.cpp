#include "connectors/kafka_message_reader.h"

#include <nlohmann/json.hpp>

#include <limits>
#include <vector>

#include "base/time.h"

namespace sluice::connectors {
namespace {

using json = nlohmann::json;
using types::LogicalType;

std::string TypeOf(const json& v) {
  switch (v.type()) {
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "an integer";
    case json::value_t::number_float:
      return "a number";
    case json::value_t::array:
      return "a list";
    case json::value_t::object:
      return "an object";
    default:
      return "null";
  }
}

std::string Wrong(const types::Field& f, const json& v, std::string_view expected) {
  return "field '" + f.name + "': expected " + std::string(expected) + ", got " + TypeOf(v);
}

// One field's value converted to its column's type, before any column grows.
struct Converted {
  bool null = true;
  std::int64_t i = 0;  // int64, timestamp, date, bool
  double d = 0;
  std::string_view s;
};

// `v` as field `f`'s type, or why it does not fit.
std::optional<std::string> Convert(const types::Field& f, const json& v, Converted& out) {
  out.null = false;
  switch (f.type) {
    case LogicalType::kBool:
      if (!v.is_boolean()) return Wrong(f, v, "a boolean");
      out.i = v.get<bool>() ? 1 : 0;
      return std::nullopt;
    case LogicalType::kInt64:
      if (v.is_number_unsigned()) {
        const auto u = v.get<std::uint64_t>();
        if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
          return "field '" + f.name + "': " + std::to_string(u) + " does not fit a 64-bit integer";
        }
        out.i = static_cast<std::int64_t>(u);
        return std::nullopt;
      }
      if (!v.is_number_integer()) return Wrong(f, v, "an integer");
      out.i = v.get<std::int64_t>();
      return std::nullopt;
    case LogicalType::kDouble:
      if (!v.is_number()) return Wrong(f, v, "a number");
      out.d = v.get<double>();
      return std::nullopt;
    case LogicalType::kString:
      if (!v.is_string()) return Wrong(f, v, "a string");
      out.s = v.get_ref<const std::string&>();
      return std::nullopt;
    case LogicalType::kTimestamp:
    case LogicalType::kDate: {
      if (!v.is_string()) return Wrong(f, v, "an ISO-8601 time string");
      auto micros = base::ParseTimestampMicros(v.get_ref<const std::string&>());
      if (!micros.ok()) return "field '" + f.name + "': " + micros.status().message();
      out.i = *micros;
      if (f.type == LogicalType::kDate) {
        constexpr std::int64_t kDay = std::int64_t{86400} * 1000000;
        const std::int64_t days = *micros >= 0 ? *micros / kDay : -((-*micros + kDay - 1) / kDay);
        if (days * kDay != *micros) return "field '" + f.name + "': expected a date, got a time";
        out.i = days;
      }
      return std::nullopt;
    }
  }
  return "field '" + f.name + "': unsupported type";
}

void AppendConverted(LogicalType type, const Converted& v, types::Column& col) {
  if (v.null) {
    col.AppendNull();
    return;
  }
  switch (type) {
    case LogicalType::kBool:
      col.AppendBool(v.i != 0);
      break;
    case LogicalType::kInt64:
      col.AppendInt64(v.i);
      break;
    case LogicalType::kDouble:
      col.AppendDouble(v.d);
      break;
    case LogicalType::kString:
      col.AppendString(v.s);
      break;
    case LogicalType::kTimestamp:
      col.AppendTimestamp(v.i);
      break;
    case LogicalType::kDate:
      col.AppendDate(static_cast<std::int32_t>(v.i));
      break;
  }
}

}  // namespace

KafkaMessageReader::KafkaMessageReader(const config::SourceSpec& source)
    : reject_extra_(source.extra_columns == config::ExtraColumns::kFail) {
  auto schema = source.Schema();
  // Validation rejects duplicate columns, the only way Schema() fails.
  if (schema.ok()) schema_ = std::move(*schema);
}

types::Batch KafkaMessageReader::NewBatch() const {
  return types::Batch(schema_);
}

std::optional<std::string> KafkaMessageReader::Append(std::string_view payload,
                                                      types::Batch& rows) const {
  json doc = json::parse(payload.begin(), payload.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return "not JSON";
  if (!doc.is_object()) return "not a JSON object (got " + TypeOf(doc) + ")";
  const auto& fields = schema_.fields();
  std::vector<const json*> values(fields.size(), nullptr);
  size_t matched = 0;
  for (size_t i = 0; i < fields.size(); ++i) {
    auto it = doc.find(fields[i].name);
    if (it != doc.end()) {
      values[i] = &*it;
      ++matched;
    }
  }
  if (reject_extra_ && matched != doc.size()) {
    for (const auto& item : doc.items()) {
      bool declared = false;
      for (const auto& f : fields)
        declared = declared || f.name == item.key();
      if (!declared) return "undeclared field '" + item.key() + "'";
    }
  }
  std::vector<Converted> converted(fields.size());
  for (size_t i = 0; i < fields.size(); ++i) {
    if (values[i] == nullptr || values[i]->is_null()) {
      if (!fields[i].nullable) {
        return values[i] == nullptr ? "missing required field '" + fields[i].name + "'"
                                    : "field '" + fields[i].name + "' is null but not nullable";
      }
      continue;
    }
    if (auto why = Convert(fields[i], *values[i], converted[i])) return why;
  }
  for (size_t i = 0; i < fields.size(); ++i)
    AppendConverted(fields[i].type, converted[i], rows.column(i));
  return std::nullopt;
}

}  // namespace sluice::connectors
