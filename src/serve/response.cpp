#include "serve/response.h"

#include "base/time.h"
#include "serve/json_writer.h"

namespace sluice::serve {

std::string RenderFeatureResponse(const FeatureRequest& request, std::int64_t at_micros,
                                  const std::vector<ViewResult>& results,
                                  std::vector<FeatureSpans>* feature_spans) {
  std::string out;
  // About 100 bytes per feature value: reserving once avoids regrowth on large batches.
  std::size_t features = 0;
  for (const auto& r : results) {
    if (!r.entities.empty()) features += r.entities.front().size();
  }
  out.reserve(64 + request.entity_json.size() * (32 + features * 100));
  out += "{\"at\":";
  AppendJsonString(out, base::FormatTimestampMicros(at_micros));
  if (!request.service.empty()) {
    out += ",\"service\":";
    AppendJsonString(out, request.service);
  }
  out += ",\"results\":[";
  for (std::size_t e = 0; e < request.entity_json.size(); ++e) {
    if (e) out += ',';
    out += "{\"entity\":";
    out += request.entity_json[e];
    out += ",\"features\":{";
    bool first = true;
    for (const auto& r : results) {
      if (e >= r.entities.size()) continue;
      for (const auto& f : r.entities[e]) {
        if (!first) out += ',';
        first = false;
        out += '"';
        AppendJsonEscaped(out, r.view);
        out += ':';
        const std::size_t name_start = out.size();
        AppendJsonEscaped(out, f.name);
        const std::size_t name_end = out.size();
        out += "\":{\"value\":";
        const std::size_t value_start = out.size();
        AppendJsonValue(out, f.value, 0);
        if (feature_spans != nullptr) {
          feature_spans->push_back(
              FeatureSpans{TextSpan{static_cast<std::uint32_t>(name_start),
                                    static_cast<std::uint32_t>(name_end - name_start)},
                           TextSpan{static_cast<std::uint32_t>(value_start),
                                    static_cast<std::uint32_t>(out.size() - value_start)}});
        }
        out += ",\"status\":\"";
        out += engine::StatusName(f.status);
        out += "\",\"version\":";
        std::string_view version;
        if (r.versions != nullptr) {
          auto it = r.versions->find(f.name.substr(0, f.name.find('=')));
          if (it != r.versions->end()) version = it->second;
        }
        AppendJsonString(out, version);
        out += '}';
      }
    }
    out += "}}";
  }
  out += "]}\n";
  return out;
}

}  // namespace sluice::serve
