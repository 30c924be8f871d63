// Fuzzes the one-pass reader of Kafka messages (KafkaMessageReader) against a plain model: the
// message parsed into nlohmann-json's document tree, then checked field by field by the rules
// the reader documents. It must not crash, and for every input the two must agree exactly:
// the same quarantine reason, or the same typed row (doubles bit for bit), except that a NUL byte
// ends nlohmann-json's input but not the reader's (see Model). The first byte picks
// whether undeclared fields are rejected; the rest is the message.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/time.h"
#include "connectors/kafka_message_reader.h"

namespace {

using json = nlohmann::json;
using sluice::types::LogicalType;

sluice::config::SourceSpec Source(bool reject_extra) {
  sluice::config::SourceSpec s;
  s.name = "tx";
  s.type = sluice::config::SourceType::kKafka;
  s.extra_columns =
      reject_extra ? sluice::config::ExtraColumns::kFail : sluice::config::ExtraColumns::kWarn;
  // Short names, so the fuzzer finds them; every type, nullable and not.
  s.columns = {{"s", LogicalType::kString, false}, {"t", LogicalType::kTimestamp, false},
               {"d", LogicalType::kDouble, true},  {"i", LogicalType::kInt64, true},
               {"b", LogicalType::kBool, true},    {"day", LogicalType::kDate, true},
               {"n", LogicalType::kInt64, false},  {"x", LogicalType::kDouble, false},
               {"u", LogicalType::kString, true}};
  return s;
}

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

// The model's row: per column, NULL or the value.
struct Value {
  bool null = true;
  std::int64_t i = 0;
  double d = 0;
  std::string s;
};

std::optional<std::string> Model(const sluice::config::SourceSpec& source, std::string_view text,
                                 std::vector<Value>& row) {
  // The one deliberate difference: nlohmann-json stops at a NUL byte (the end of a C string)
  // and ignores what follows it; for the reader a NUL outside a string is not JSON (and inside
  // one it is an unescaped control character for both).
  if (text.find('\0') != std::string_view::npos) return "not JSON";
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return "not JSON";
  if (!doc.is_object()) return "not a JSON object (got " + TypeOf(doc) + ")";
  const auto& fields = source.columns;
  if (source.extra_columns == sluice::config::ExtraColumns::kFail) {
    for (const auto& item : doc.items()) {  // sorted by key
      bool declared = false;
      for (const auto& f : fields)
        declared = declared || f.name == item.key();
      if (!declared) return "undeclared field '" + item.key() + "'";
    }
  }
  row.assign(fields.size(), Value{});
  for (size_t c = 0; c < fields.size(); ++c) {
    const auto& f = fields[c];
    auto it = doc.find(f.name);
    if (it == doc.end() || it->is_null()) {
      if (!f.nullable) {
        return it == doc.end() ? "missing required field '" + f.name + "'"
                               : "field '" + f.name + "' is null but not nullable";
      }
      continue;
    }
    const json& v = *it;
    auto wrong = [&](const std::string& expected) {
      return "field '" + f.name + "': expected " + expected + ", got " + TypeOf(v);
    };
    Value& out = row[c];
    out.null = false;
    switch (f.type) {
      case LogicalType::kBool:
        if (!v.is_boolean()) return wrong("a boolean");
        out.i = v.get<bool>() ? 1 : 0;
        break;
      case LogicalType::kInt64:
        if (v.is_number_unsigned()) {
          const auto u = v.get<std::uint64_t>();
          if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            return "field '" + f.name + "': " + std::to_string(u) +
                   " does not fit a 64-bit integer";
          }
          out.i = static_cast<std::int64_t>(u);
          break;
        }
        if (!v.is_number_integer()) return wrong("an integer");
        out.i = v.get<std::int64_t>();
        break;
      case LogicalType::kDouble:
        if (!v.is_number()) return wrong("a number");
        out.d = v.get<double>();
        break;
      case LogicalType::kString:
        if (!v.is_string()) return wrong("a string");
        out.s = v.get<std::string>();
        break;
      case LogicalType::kTimestamp:
      case LogicalType::kDate: {
        if (!v.is_string()) return wrong("an ISO-8601 time string");
        auto micros = sluice::base::ParseTimestampMicros(v.get_ref<const std::string&>());
        if (!micros.ok()) return "field '" + f.name + "': " + micros.status().message();
        out.i = *micros;
        if (f.type == LogicalType::kDate) {
          constexpr std::int64_t kDay = std::int64_t{86400} * 1000000;
          const std::int64_t days = *micros >= 0 ? *micros / kDay : -((-*micros + kDay - 1) / kDay);
          if (days * kDay != *micros) return "field '" + f.name + "': expected a date, got a time";
          out.i = days;
        }
        break;
      }
    }
  }
  return std::nullopt;
}

[[noreturn]] void Fail(const char* what, std::string_view text, const std::string& a,
                       const std::string& b) {
  std::fprintf(stderr, "%s\nmessage: %.*s\nreader: %s\nmodel:  %s\n", what,
               static_cast<int>(text.size()), text.data(), a.c_str(), b.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const bool reject_extra = (data[0] & 1) != 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const sluice::config::SourceSpec source = Source(reject_extra);
  sluice::connectors::KafkaMessageReader reader(source);
  sluice::types::Batch rows = reader.NewBatch();
  // A good message first, so a bad one must leave the batch exactly as it was.
  if (reader.Append(R"({"s":"a","t":"2024-01-01","n":1,"x":2})", rows)) std::abort();
  const auto got = reader.Append(text, rows);
  std::vector<Value> want_row;
  const auto want = Model(source, text, want_row);
  if (got != want) Fail("reasons differ", text, got.value_or("(row)"), want.value_or("(row)"));
  if (got) {
    for (size_t c = 0; c < rows.num_columns(); ++c) {
      if (rows.column(c).size() != 1) Fail("a quarantined message left a value", text, *got, "");
    }
    return 0;
  }
  for (size_t c = 0; c < rows.num_columns(); ++c) {
    const auto& col = rows.column(c);
    const Value& v = want_row[c];
    const std::string where = "column " + source.columns[c].name;
    if (col.size() != 2) Fail("column sizes differ", text, where, "");
    if (col.IsValid(1) == v.null) Fail("NULLs differ", text, where, "");
    if (v.null) continue;
    bool same = true;
    switch (col.type()) {
      case LogicalType::kBool:
        same = col.GetBool(1) == (v.i != 0);
        break;
      case LogicalType::kInt64:
        same = col.GetInt64(1) == v.i;
        break;
      case LogicalType::kDouble: {
        const double d = col.GetDouble(1);
        same = std::memcmp(&d, &v.d, sizeof d) == 0;
        break;
      }
      case LogicalType::kString:
        same = col.GetString(1) == v.s;
        break;
      case LogicalType::kTimestamp:
        same = col.GetTimestamp(1) == v.i;
        break;
      case LogicalType::kDate:
        same = col.GetDate(1) == v.i;
        break;
    }
    if (!same) Fail("values differ", text, where + ": " + col.ValueToString(1), "");
  }
  return 0;
}
