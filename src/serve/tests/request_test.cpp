#include "serve/request.h"

#include <gtest/gtest.h>

#include <string>

#include "engine/entity_state.h"

namespace sluice::serve {
namespace {

using types::LogicalType;

Catalog TestCatalog() {
  Catalog c;
  c.default_store = "default";
  c.max_entities = 3;
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
  c.views.push_back({"broken", {}, {}, {}, "its source 'x' has no version"});
  c.services.push_back(
      {"fraud_model",
       "fast",
       {{"user_spend", "txn_count_1h"}, {"merchant", "m_count"}, {"user_spend", "spend_ratio"}}});
  c.services.push_back({"needs_broken", "default", {{"broken", "x"}}});
  return c;
}

base::Result<FeatureRequest> Parse(std::string_view body) {
  static const Catalog catalog = TestCatalog();
  return ParseFeatureRequest(body, catalog);
}

// Asserts `body` is refused with `code` and a message containing `text`.
void ExpectError(std::string_view body, base::StatusCode code, const std::string& text) {
  auto r = Parse(body);
  ASSERT_FALSE(r.ok()) << body;
  EXPECT_EQ(r.status().code(), code) << body << ": " << r.status().ToString();
  EXPECT_NE(r.status().ToString().find(text), std::string::npos)
      << body << ": '" << r.status().ToString() << "' lacks '" << text << "'";
}

TEST(ParseFeatureRequest, ViewWithAllFeatures) {
  auto r = Parse(R"({"view": "user_spend", "entities": [{"user_id": 48}, {"user_id": -7}]})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->service.empty());
  EXPECT_FALSE(r->at.has_value());
  ASSERT_EQ(r->lookups.size(), 1u);
  EXPECT_EQ(r->lookups[0].view, "user_spend");
  EXPECT_EQ(r->lookups[0].store, "default");
  EXPECT_EQ(r->lookups[0].features,
            (std::vector<std::string>{"txn_count_1h", "amount_sum_24h", "spend_ratio"}));
  EXPECT_TRUE(r->lookups[0].all_features);
  EXPECT_EQ(r->lookups[0].entity_keys, (std::vector<std::string>{"48", "-7"}));
  EXPECT_EQ(r->entity_json, (std::vector<std::string>{R"({"user_id":48})", R"({"user_id":-7})"}));
}

TEST(ParseFeatureRequest, FeatureSubsetAtAndDuplicates) {
  auto r = Parse(R"({"view": "user_spend", "features": ["spend_ratio", "txn_count_1h",
                     "spend_ratio"], "at": "2024-03-01T12:00:00+01:00",
                     "entities": [{"user_id": 1}, {"user_id": 1}]})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->lookups[0].features, (std::vector<std::string>{"spend_ratio", "txn_count_1h"}));
  EXPECT_FALSE(r->lookups[0].all_features);
  ASSERT_TRUE(r->at.has_value());
  EXPECT_EQ(*r->at, *base::ParseTimestampMicros("2024-03-01T11:00:00Z"));
  EXPECT_EQ(r->lookups[0].entity_keys.size(), 2u);  // duplicates are answered twice
}

TEST(ParseFeatureRequest, ServiceSpansViewsWithTheUnionOfKeys) {
  auto r = Parse(
      R"({"service": "fraud_model", "entities": [{"merchant_id": "m\u00e9", "user_id": 3}]})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->service, "fraud_model");
  ASSERT_EQ(r->lookups.size(), 2u);
  EXPECT_EQ(r->lookups[0].view, "user_spend");
  EXPECT_EQ(r->lookups[0].store, "fast");
  EXPECT_EQ(r->lookups[0].features, (std::vector<std::string>{"txn_count_1h", "spend_ratio"}));
  EXPECT_EQ(r->lookups[0].entity_keys, (std::vector<std::string>{"3"}));
  EXPECT_EQ(r->lookups[1].view, "merchant");
  EXPECT_EQ(r->lookups[1].entity_keys, (std::vector<std::string>{"m\xc3\xa9"}));
  // Echoed in the order the views use the columns, whatever the request's order.
  EXPECT_EQ(r->entity_json[0], "{\"user_id\":3,\"merchant_id\":\"m\xc3\xa9\"}");
}

TEST(ParseFeatureRequest, CompositeKeysAreCanonicalizedLikeTheEngine) {
  auto r = Parse(R"({"view": "daily", "entities": [{"user_id": 9, "day": "2024-03-01",
                     "flag": true, "score": 1, "at": "2024-03-01 10:00:00+02:00"}]})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->lookups[0].entity_keys[0],
            engine::EntityKeyBytes({"9", "2024-03-01", "true", "1", "2024-03-01T08:00:00Z"}));
  EXPECT_EQ(
      r->entity_json[0],
      R"({"user_id":9,"day":"2024-03-01","flag":true,"score":1,"at":"2024-03-01T08:00:00Z"})");
}

TEST(ParseFeatureRequest, LargestIntegersAndUnsignedForm) {
  auto r = Parse(R"({"view": "user_spend", "entities": [{"user_id": 9223372036854775807},
                     {"user_id": -9223372036854775808}]})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->lookups[0].entity_keys,
            (std::vector<std::string>{"9223372036854775807", "-9223372036854775808"}));
  ExpectError(R"({"view": "user_spend", "entities": [{"user_id": 9223372036854775808}]})",
              base::StatusCode::kSchemaMismatch, "out of the int64 range");
}

TEST(ParseFeatureRequest, MalformedJson) {
  ExpectError("", base::StatusCode::kInvalidArgument, "malformed JSON");
  ExpectError("{\"view\": ", base::StatusCode::kInvalidArgument, "malformed JSON");
  ExpectError("{\"view\": \"user_spend\"} trailing", base::StatusCode::kInvalidArgument,
              "malformed JSON");
  ExpectError("\"\xff\"", base::StatusCode::kInvalidArgument, "malformed JSON");
  ExpectError("[1, 2]", base::StatusCode::kInvalidArgument, "must be a JSON object, got an array");
}

TEST(ParseFeatureRequest, ShapeErrorsNameTheField) {
  ExpectError(R"({"entities": [{"user_id": 1}]})", base::StatusCode::kInvalidArgument,
              "missing \"view\" or \"service\"");
  ExpectError(R"({"view": "user_spend", "service": "fraud_model", "entities": []})",
              base::StatusCode::kInvalidArgument, "not both");
  ExpectError(R"({"view": 3, "entities": [{"user_id": 1}]})", base::StatusCode::kInvalidArgument,
              "\"view\" must be a string, got an integer");
  ExpectError(R"({"view": "user_spend", "entitys": [{"user_id": 1}]})",
              base::StatusCode::kInvalidArgument, "unknown field 'entitys'");
  ExpectError(R"({"view": "user_spend"})", base::StatusCode::kInvalidArgument,
              "missing \"entities\"");
  ExpectError(R"({"view": "user_spend", "entities": {}})", base::StatusCode::kInvalidArgument,
              "\"entities\" must be an array");
  ExpectError(R"({"view": "user_spend", "entities": []})", base::StatusCode::kInvalidArgument,
              "\"entities\" is empty");
  ExpectError(R"({"view": "user_spend", "entities": [5]})", base::StatusCode::kInvalidArgument,
              "entity 0 must be an object");
  ExpectError(R"({"view": "user_spend", "features": "txn_count_1h", "entities": [{"user_id": 1}]})",
              base::StatusCode::kInvalidArgument, "\"features\" must be an array");
  ExpectError(R"({"view": "user_spend", "features": [], "entities": [{"user_id": 1}]})",
              base::StatusCode::kInvalidArgument, "\"features\" is empty");
  ExpectError(R"({"view": "user_spend", "features": [1], "entities": [{"user_id": 1}]})",
              base::StatusCode::kInvalidArgument, "\"features\"[0] must be a string");
  ExpectError(R"({"service": "fraud_model", "features": ["x"], "entities": [{"user_id": 1}]})",
              base::StatusCode::kInvalidArgument, "a feature service declares its features");
  ExpectError(R"({"view": "user_spend", "at": 5, "entities": [{"user_id": 1}]})",
              base::StatusCode::kInvalidArgument, "\"at\" must be an ISO-8601 time string");
  ExpectError(R"({"view": "user_spend", "at": "yesterday", "entities": [{"user_id": 1}]})",
              base::StatusCode::kInvalidArgument, "\"at\":");
}

TEST(ParseFeatureRequest, TooManyEntities) {
  ExpectError(R"({"view": "user_spend", "entities": [{"user_id": 1}, {"user_id": 2},
                  {"user_id": 3}, {"user_id": 4}]})",
              base::StatusCode::kInvalidArgument,
              "too many entities: 4 in one request, the limit is 3");
}

TEST(ParseFeatureRequest, UnknownNames) {
  ExpectError(R"({"view": "nope", "entities": [{"user_id": 1}]})", base::StatusCode::kNotFound,
              "no feature view 'nope'");
  ExpectError(R"({"view": "user_spend", "features": ["nope"], "entities": [{"user_id": 1}]})",
              base::StatusCode::kNotFound, "feature view 'user_spend' has no feature 'nope'");
  ExpectError(R"({"service": "nope", "entities": [{"user_id": 1}]})", base::StatusCode::kNotFound,
              "no feature service 'nope'");
}

TEST(ParseFeatureRequest, KeyErrors) {
  ExpectError(R"({"view": "user_spend", "entities": [{"user_id": "48"}]})",
              base::StatusCode::kSchemaMismatch,
              "entity 0, key column 'user_id': expected int64 (a JSON integer), got a string");
  ExpectError(R"({"view": "user_spend", "entities": [{"user_id": 4.5}]})",
              base::StatusCode::kSchemaMismatch, "got a fractional number");
  // Too long for 64 bits (the JSON parser holds it as a double): out of range, not fractional.
  ExpectError(R"({"view": "user_spend", "entities": [{"user_id": 99999999999999999999999}]})",
              base::StatusCode::kSchemaMismatch,
              "entity 0, key column 'user_id': integer out of the int64 range");
  ExpectError(R"({"view": "user_spend", "entities": [{"user_id": -99999999999999999999999}]})",
              base::StatusCode::kSchemaMismatch, "integer out of the int64 range");
  ExpectError(R"({"view": "user_spend", "entities": [{"user_id": null}]})",
              base::StatusCode::kSchemaMismatch, "got null");
  ExpectError(R"({"view": "user_spend", "entities": [{"user_id": 1}, {}]})",
              base::StatusCode::kSchemaMismatch, "entity 1: missing key column 'user_id'");
  ExpectError(R"({"view": "user_spend", "entities": [{"user_id": 1, "userid": 1}]})",
              base::StatusCode::kSchemaMismatch,
              "entity 0: unknown key column 'userid' (the requested views are keyed by user_id)");
  ExpectError(R"({"view": "merchant", "entities": [{"merchant_id": 7}]})",
              base::StatusCode::kSchemaMismatch, "expected string (a JSON string), got an integer");
  ExpectError(R"({"view": "merchant", "entities": [{"merchant_id": "a\u001fb"}]})",
              base::StatusCode::kSchemaMismatch, "U+001F");
  ExpectError(R"({"service": "fraud_model", "entities": [{"user_id": 1}]})",
              base::StatusCode::kSchemaMismatch, "missing key column 'merchant_id'");
  ExpectError(R"({"view": "daily", "entities": [{"user_id": 9, "day": "2024-03-01T10:00:00Z",
                  "flag": true, "score": 1, "at": "2024-03-01"}]})",
              base::StatusCode::kSchemaMismatch, "expected a date");
  ExpectError(R"({"view": "daily", "entities": [{"user_id": 9, "day": "2024-03-01",
                  "flag": 1, "score": 1, "at": "2024-03-01"}]})",
              base::StatusCode::kSchemaMismatch, "expected bool (true or false), got an integer");
}

TEST(ParseFeatureRequest, UnavailableViewIsNotReady) {
  ExpectError(R"({"view": "broken", "entities": [{}]})", base::StatusCode::kFailedPrecondition,
              "feature view 'broken' cannot be served: its source 'x' has no version");
  ExpectError(R"({"service": "needs_broken", "entities": [{}]})",
              base::StatusCode::kFailedPrecondition, "cannot be served");
}

TEST(ClassifyError, MapsCodesToHttp) {
  EXPECT_EQ(ClassifyError(base::InvalidArgument("x")).http_status, 400);
  EXPECT_EQ(ClassifyError(base::InvalidArgument("x")).kind, "invalid_request");
  EXPECT_EQ(ClassifyError(base::NotFound("x")).kind, "unknown_name");
  EXPECT_EQ(ClassifyError(base::SchemaMismatch("x")).kind, "bad_entity_key");
  EXPECT_EQ(ClassifyError(base::FailedPrecondition("x")).http_status, 503);
  EXPECT_EQ(ClassifyError(base::Unavailable("x")).kind, "store_unavailable");
  EXPECT_EQ(ClassifyError(base::Internal("x")).http_status, 500);
}

TEST(ResolveServices, ExpandsWholeViewsAndRejectsUnknownFeatures) {
  config::ProjectSpec project;
  config::FeatureServiceSpec s;
  s.name = "svc";
  s.online_store = "default";
  s.features = {"merchant", "user_spend:spend_ratio"};
  project.feature_services.push_back(s);
  const Catalog catalog = TestCatalog();
  auto resolved = ResolveServices(project, catalog.views);
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  ASSERT_EQ(resolved->size(), 1u);
  EXPECT_EQ((*resolved)[0].features, (std::vector<std::pair<std::string, std::string>>{
                                         {"merchant", "m_count"}, {"user_spend", "spend_ratio"}}));
  project.feature_services[0].features = {"user_spend:nope"};
  auto bad = ResolveServices(project, catalog.views);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("has no feature 'nope'"), std::string::npos);
}

}  // namespace
}  // namespace sluice::serve
