// Feeds arbitrary bytes to the serving API's request parser, as any client on the network can.
// It must never crash, hang or throw; a refusal must say why and map to a 4xx or 503; what it
// accepts must be self-consistent (one key per entity per view, only known views and features)
// and must render as a response.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "serve/request.h"
#include "serve/response.h"

namespace {

using sluice::types::LogicalType;

const sluice::serve::Catalog& TheCatalog() {
  static const sluice::serve::Catalog catalog = [] {
    sluice::serve::Catalog c;
    c.default_store = "default";
    c.max_entities = 50;
    c.views.push_back({"user_spend",
                       {"user_id"},
                       {LogicalType::kInt64},
                       {"txn_count_1h", "amount_sum_24h", "spend_ratio"},
                       ""});
    c.views.push_back({"merchant", {"merchant_id"}, {LogicalType::kString}, {"m_count"}, ""});
    c.views.push_back({"daily",
                       {"user_id", "day", "flag", "score", "at"},
                       {LogicalType::kInt64, LogicalType::kDate, LogicalType::kBool,
                        LogicalType::kDouble, LogicalType::kTimestamp},
                       {"n"},
                       ""});
    c.views.push_back({"broken", {}, {}, {}, "not materialized"});
    c.services.push_back(
        {"fraud_model", "fast", {{"user_spend", "txn_count_1h"}, {"merchant", "m_count"}}});
    c.services.push_back({"needs_broken", "default", {{"broken", "x"}}});
    return c;
  }();
  return catalog;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace sluice::serve;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  const Catalog& catalog = TheCatalog();
  auto parsed = ParseFeatureRequest(body, catalog);
  if (!parsed.ok()) {
    if (parsed.status().message().empty()) __builtin_trap();  // a refusal must say why
    const ApiError e = ClassifyError(parsed.status());
    if (e.http_status != 400 && e.http_status != 503) __builtin_trap();
    return 0;
  }
  const FeatureRequest& r = *parsed;
  if (r.lookups.empty() || r.entity_json.empty()) __builtin_trap();
  if (r.entity_json.size() > catalog.max_entities) __builtin_trap();
  std::vector<ViewResult> results;
  for (const auto& lookup : r.lookups) {
    const ViewSchema* view = catalog.FindView(lookup.view);
    if (view == nullptr || !view->unavailable.empty()) __builtin_trap();
    if (lookup.entity_keys.size() != r.entity_json.size()) __builtin_trap();
    if (lookup.features.empty()) __builtin_trap();
    for (const auto& f : lookup.features) {
      if (!view->HasFeature(f)) __builtin_trap();
    }
    results.push_back(ViewResult{lookup.view, nullptr, {}});
  }
  const std::string rendered = RenderFeatureResponse(r, r.at.value_or(0), results);
  if (rendered.empty()) __builtin_trap();
  return 0;
}
