#include "serve/json_writer.h"

#include <charconv>
#include <cmath>

namespace sluice::serve {

std::string JsonEscape(std::string_view s) {
  std::string out;
  AppendJsonEscaped(out, s);
  return out;
}

void AppendJsonString(std::string& out, std::string_view s) {
  out += '"';
  AppendJsonEscaped(out, s);
  out += '"';
}

void AppendJsonValue(std::string& out, const types::Column& c, std::size_t row) {
  if (!c.IsValid(row)) {
    out += "null";
    return;
  }
  switch (c.type()) {
    case types::LogicalType::kString:
      AppendJsonString(out, c.GetString(row));
      return;
    case types::LogicalType::kTimestamp:
    case types::LogicalType::kDate:
      AppendJsonString(out, c.ValueToString(row));
      return;
    case types::LogicalType::kDouble: {
      const double v = c.GetDouble(row);
      if (std::isnan(v)) {
        out += "\"NaN\"";
      } else if (std::isinf(v)) {
        out += v > 0 ? "\"Infinity\"" : "\"-Infinity\"";
      } else {
        // Exactly printf's "%.17g" (the standard defines it so), without glibc's
        // multi-precision formatting, which was a twentieth of the serving path's time.
        char buf[40];
        const auto r = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::general, 17);
        out.append(buf, r.ptr);
      }
      return;
    }
    case types::LogicalType::kBool:
      out += c.GetBool(row) ? "true" : "false";
      return;
    case types::LogicalType::kInt64: {
      char buf[24];
      const auto r = std::to_chars(buf, buf + sizeof(buf), c.GetInt64(row));
      out.append(buf, r.ptr);
      return;
    }
  }
  out += "null";
}

std::string JsonValue(const types::Column& c, std::size_t row) {
  std::string out;
  AppendJsonValue(out, c, row);
  return out;
}

std::string ErrorBody(int http_status, std::string_view kind, std::string_view message) {
  std::string out = "{\"error\":{\"code\":" + std::to_string(http_status) + ",\"kind\":";
  AppendJsonString(out, kind);
  out += ",\"message\":";
  AppendJsonString(out, message);
  out += "}}\n";
  return out;
}

}  // namespace sluice::serve
