#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/online_view.h"
#include "serve/request.h"

namespace sluice::serve {

// What one view answered for a request: per entity (in request order), the features read.
struct ViewResult {
  std::string view;
  // Feature name -> version (OnlineView::FeatureVersion). One-hot outputs ("f=cat") take the
  // version of their feature "f".
  const std::map<std::string, std::string>* versions = nullptr;
  std::vector<std::vector<engine::OnlineFeature>> entities;
};

// A range of bytes in a rendered response.
struct TextSpan {
  std::uint32_t offset = 0;
  std::uint32_t length = 0;
};
// Where one feature is in a rendered response: its name (JSON-escaped, without the view) and
// its value's JSON.
struct FeatureSpans {
  TextSpan name;
  TextSpan value;
};

// The 200 body of POST /v1/features (docs/serving.md):
//   {"at":"<ISO>", ["service":"<name>",] "results":[{"entity":{<keys>},
//     "features":{"<view>:<feature>":{"value":<json>,"status":"present|missing|expired",
//                 "version":"<version>"}, ...}}, ...]}
// `results` is parallel to request.lookups; each holds request.entity_json.size() entities.
// When `feature_spans` is given, it receives where each feature's name and value are in the body,
// in rendering order (entity, then view, then feature): the serving log copies those bytes.
std::string RenderFeatureResponse(const FeatureRequest& request, std::int64_t at_micros,
                                  const std::vector<ViewResult>& results,
                                  std::vector<FeatureSpans>* feature_spans = nullptr);

}  // namespace sluice::serve
