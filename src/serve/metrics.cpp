#include "serve/metrics.h"

#include <cstdio>

namespace sluice::serve {

namespace {

std::string FormatSeconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6g", s);
  return buf;
}

void Header(std::string& out, std::string_view name, std::string_view type, std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

}  // namespace

std::string PromLabelValue(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

void LatencyHistogram::Observe(base::Duration d) {
  const double seconds = static_cast<double>(d.count()) / 1e6;
  std::size_t i = 0;
  while (i < kBounds.size() && seconds > kBounds[i])
    ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  sum_micros_.fetch_add(static_cast<std::uint64_t>(d.count() < 0 ? 0 : d.count()),
                        std::memory_order_relaxed);
}

void LatencyHistogram::Render(std::string& out, std::string_view name,
                              std::string_view labels) const {
  const std::string prefix = labels.empty() ? "" : std::string(labels) + ",";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i <= kBounds.size(); ++i) {
    cumulative += buckets_[i].load(std::memory_order_relaxed);
    out += name;
    out += "_bucket{" + prefix + "le=\"" +
           (i < kBounds.size() ? FormatSeconds(kBounds[i]) : std::string("+Inf")) + "\"} " +
           std::to_string(cumulative) + "\n";
  }
  const std::string braces = labels.empty() ? "" : "{" + std::string(labels) + "}";
  out += std::string(name) + "_sum" + braces + " " +
         FormatSeconds(static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6) +
         "\n";
  out += std::string(name) + "_count" + braces + " " +
         std::to_string(count_.load(std::memory_order_relaxed)) + "\n";
}

std::string_view Metrics::Endpoint(std::string_view path) {
  for (std::string_view known : {"/v1/features", "/healthz", "/readyz", "/metrics"}) {
    if (path == known) return known;
  }
  return "other";
}

LatencyHistogram& Metrics::Histogram(std::map<std::string, std::unique_ptr<LatencyHistogram>>& map,
                                     std::string_view key) {
  std::lock_guard lock(mu_);
  auto it = map.find(std::string(key));
  if (it == map.end()) {
    it = map.emplace(std::string(key), std::make_unique<LatencyHistogram>()).first;
  }
  return *it->second;
}

void Metrics::CountRequest(std::string_view path, int http_status) {
  std::lock_guard lock(mu_);
  ++requests_[{std::string(Endpoint(path)), http_status}];
}

void Metrics::ObserveRequest(std::string_view path, base::Duration d) {
  Histogram(request_latency_, Endpoint(path)).Observe(d);
}

void Metrics::ObserveStore(std::string_view store, base::Duration d) {
  Histogram(store_latency_, store).Observe(d);
}

void Metrics::CountError(std::string_view kind) {
  std::lock_guard lock(mu_);
  ++errors_[std::string(kind)];
}

void Metrics::CountFeatures(std::string_view view, std::uint64_t present, std::uint64_t missing,
                            std::uint64_t expired) {
  std::lock_guard lock(mu_);
  const std::string v(view);
  features_[{v, "present"}] += present;
  features_[{v, "missing"}] += missing;
  features_[{v, "expired"}] += expired;
}

std::string Metrics::Render() const {
  std::lock_guard lock(mu_);
  std::string out;
  Header(out, "sluice_serve_requests_total", "counter",
         "HTTP requests answered, by endpoint and status code.");
  for (const auto& [key, n] : requests_) {
    out += "sluice_serve_requests_total{endpoint=\"" + PromLabelValue(key.first) + "\",code=\"" +
           std::to_string(key.second) + "\"} " + std::to_string(n) + "\n";
  }
  Header(out, "sluice_serve_request_duration_seconds", "histogram",
         "Time to handle a request, from routing to the response body, by endpoint.");
  for (const auto& [endpoint, h] : request_latency_) {
    h->Render(out, "sluice_serve_request_duration_seconds",
              "endpoint=\"" + PromLabelValue(endpoint) + "\"");
  }
  Header(out, "sluice_serve_store_duration_seconds", "histogram",
         "Online store MultiGet latency (one per view per request), by store.");
  for (const auto& [store, h] : store_latency_) {
    h->Render(out, "sluice_serve_store_duration_seconds",
              "store=\"" + PromLabelValue(store) + "\"");
  }
  Header(out, "sluice_serve_errors_total", "counter",
         "Requests refused or failed, by error kind (docs/serving.md).");
  for (const auto& [kind, n] : errors_) {
    out += "sluice_serve_errors_total{kind=\"" + PromLabelValue(kind) + "\"} " + std::to_string(n) +
           "\n";
  }
  Header(out, "sluice_serve_connections_refused_total", "counter",
         "Connections answered 503 and closed because the connection cap was reached.");
  out += "sluice_serve_connections_refused_total " +
         std::to_string(refused_connections_.load(std::memory_order_relaxed)) + "\n";
  Header(out, "sluice_serve_connections_open", "gauge", "Client connections open now.");
  out += "sluice_serve_connections_open " +
         std::to_string(open_connections_.load(std::memory_order_relaxed)) + "\n";
  Header(out, "sluice_serve_features_total", "counter",
         "Feature values served, by view and status.");
  for (const auto& [key, n] : features_) {
    out += "sluice_serve_features_total{view=\"" + PromLabelValue(key.first) + "\",status=\"" +
           key.second + "\"} " + std::to_string(n) + "\n";
  }
  return out;
}

}  // namespace sluice::serve
