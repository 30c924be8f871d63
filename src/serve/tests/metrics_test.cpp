#include "serve/metrics.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice::serve {
namespace {

bool Has(const std::string& text, const std::string& line) {
  return text.find(line) != std::string::npos;
}

TEST(Metrics, CountersAndHistogramsRenderInPrometheusFormat) {
  Metrics m;
  m.CountRequest("/v1/features", 200);
  m.CountRequest("/v1/features", 200);
  m.CountRequest("/v1/features", 400);
  m.CountRequest("/secret/../x", 404);  // arbitrary paths collapse into one series
  m.ObserveRequest("/v1/features", std::chrono::microseconds(30));
  m.ObserveRequest("/v1/features", std::chrono::microseconds(2000));
  m.ObserveStore("default", std::chrono::microseconds(5));
  m.CountError("unknown_name");
  m.CountFeatures("user_spend", 3, 1, 0);
  const std::string text = m.Render();
  EXPECT_TRUE(Has(text, "# TYPE sluice_serve_requests_total counter\n"));
  EXPECT_TRUE(Has(text, "sluice_serve_requests_total{endpoint=\"/v1/features\",code=\"200\"} 2\n"));
  EXPECT_TRUE(Has(text, "sluice_serve_requests_total{endpoint=\"/v1/features\",code=\"400\"} 1\n"));
  EXPECT_TRUE(Has(text, "sluice_serve_requests_total{endpoint=\"other\",code=\"404\"} 1\n"));
  EXPECT_TRUE(Has(text, "# TYPE sluice_serve_request_duration_seconds histogram\n"));
  // 30us falls in the 50us bucket, 2ms in the 2.5ms one; buckets are cumulative.
  EXPECT_TRUE(Has(text,
                  "sluice_serve_request_duration_seconds_bucket{endpoint=\"/v1/features\","
                  "le=\"2.5e-05\"} 0\n"));
  EXPECT_TRUE(Has(text,
                  "sluice_serve_request_duration_seconds_bucket{endpoint=\"/v1/features\","
                  "le=\"5e-05\"} 1\n"));
  EXPECT_TRUE(Has(text,
                  "sluice_serve_request_duration_seconds_bucket{endpoint=\"/v1/features\","
                  "le=\"0.0025\"} 2\n"));
  EXPECT_TRUE(Has(text,
                  "sluice_serve_request_duration_seconds_bucket{endpoint=\"/v1/features\","
                  "le=\"+Inf\"} 2\n"));
  EXPECT_TRUE(Has(text,
                  "sluice_serve_request_duration_seconds_sum{endpoint=\"/v1/features\"} "
                  "0.00203\n"));
  EXPECT_TRUE(
      Has(text, "sluice_serve_request_duration_seconds_count{endpoint=\"/v1/features\"} 2\n"));
  EXPECT_TRUE(Has(text, "sluice_serve_store_duration_seconds_count{store=\"default\"} 1\n"));
  EXPECT_TRUE(Has(text, "sluice_serve_errors_total{kind=\"unknown_name\"} 1\n"));
  EXPECT_TRUE(Has(text, "sluice_serve_features_total{view=\"user_spend\",status=\"present\"} 3\n"));
  EXPECT_TRUE(Has(text, "sluice_serve_features_total{view=\"user_spend\",status=\"missing\"} 1\n"));
}

TEST(Metrics, LabelValuesAreEscaped) {
  EXPECT_EQ(PromLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

}  // namespace
}  // namespace sluice::serve
