#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/status.h"
#include "serve/catalog.h"

namespace sluice::serve {

// The reads one request needs from one feature view: one MultiGet of `entity_keys`.
struct ViewLookup {
  std::string view;
  std::string store;                     // the online store to read (a store name)
  std::vector<std::string> features;     // feature names to read, in response order
  std::vector<std::string> entity_keys;  // engine key bytes (engine::EntityKeyBytes), per entity
  // `features` is every feature of the view in the view's order: the reader may ask for "all",
  // which skips checking each name again per entity.
  bool all_features = false;
};

// A validated POST /v1/features request (the body format is in docs/serving.md).
struct FeatureRequest {
  std::string service;                   // the feature service named, empty for a view request
  std::optional<std::int64_t> at;        // microseconds since the epoch; nullopt = now
  std::vector<std::string> entity_json;  // each entity's key columns as a canonical JSON object
  std::vector<ViewLookup> lookups;       // one per view, in order of first use
};

// Parses and validates a request body against `catalog`. A pure function: no I/O, no clock;
// never throws and never crashes, whatever the bytes (fuzzed by fuzz/serve_request_fuzz.cpp).
// Errors, each naming the problem:
//   kInvalidArgument  malformed JSON, a field of the wrong shape, unknown top-level fields,
//                     both or neither of "view" and "service", a bad "at", no entities or more
//                     than catalog.max_entities;
//   kNotFound         an unknown view, feature or service;
//   kSchemaMismatch   an entity missing a key column, with a column no requested view is keyed
//                     by, or with a key value of the wrong JSON type for the column's type;
//   kFailedPrecondition  a view that cannot be served (ViewSchema::unavailable).
// Key values are canonicalized to the text the engine keys state by (int64 48 -> "48"), so a
// request finds exactly what materialization stored.
base::Result<FeatureRequest> ParseFeatureRequest(std::string_view body, const Catalog& catalog);

// How an error is answered over HTTP: its status code and a stable, machine-readable kind that
// clients can branch on and /metrics counts errors by.
struct ApiError {
  int http_status = 500;
  std::string_view kind;
};
ApiError ClassifyError(const base::Status& status);

}  // namespace sluice::serve
