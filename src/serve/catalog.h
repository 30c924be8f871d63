#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "config/project.h"
#include "types/logical_type.h"

namespace sluice::serve {

// Limits on one POST /v1/features request. The body limit is enforced by the HTTP layer before
// the body is read; the entity limit by ParseFeatureRequest.
inline constexpr std::size_t kDefaultMaxBodyBytes = std::size_t{1} << 20;  // 1 MiB
inline constexpr std::size_t kDefaultMaxEntities = 1000;

// What a request may name about one feature view: its entity key columns (with their types, so
// a request's key values can be checked) and its features. Plain data, so request parsing is a
// pure function of (body, catalog) that tests and the fuzzer drive without a store.
struct ViewSchema {
  std::string name;
  std::vector<std::string> keys;              // entity key columns, in the view's key order
  std::vector<types::LogicalType> key_types;  // parallel to keys
  std::vector<std::string> features;          // aggregations, then derived features
  // Non-empty when the view cannot be served at all (its source was never ingested, ...): a
  // request naming it is refused as "not ready" with this reason instead of "unknown".
  std::string unavailable;

  bool HasFeature(std::string_view feature) const;
};

// A feature service resolved against the views: every ("view", "feature") pair it serves, in
// declaration order ("view" alone expands to all of the view's features), and its store.
struct ServiceSchema {
  std::string name;
  std::string store;
  std::vector<std::pair<std::string, std::string>> features;
};

struct Catalog {
  std::vector<ViewSchema> views;
  std::vector<ServiceSchema> services;
  std::string default_store;  // the store that view requests read from
  std::size_t max_entities = kDefaultMaxEntities;

  const ViewSchema* FindView(std::string_view name) const;
  const ServiceSchema* FindService(std::string_view name) const;
};

// Resolves the project's feature services against `views` (which must hold every view a service
// names). Fails naming the service and the reference that does not resolve.
base::Result<std::vector<ServiceSchema>> ResolveServices(const config::ProjectSpec& project,
                                                         const std::vector<ViewSchema>& views);

// The online store `name` of the project, or its first one when `name` is empty.
base::Result<const config::OnlineStoreSpec*> ChooseOnlineStore(const config::ProjectSpec& project,
                                                               const std::string& name);

}  // namespace sluice::serve
