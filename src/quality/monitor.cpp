#include "quality/monitor.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/log.h"
#include "base/time.h"
#include "engine/view_freshness.h"
#include "quality/alert_sink.h"
#include "quality/drift.h"
#include "quality/profile.h"
#include "store/online_store.h"

namespace sluice::quality {
namespace {

std::string Num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

struct Firing {
  std::string rule;  // part of the fingerprint: which rule fired
  std::string message;
  nlohmann::json details;
};

base::Status EvaluateMetric(const config::MonitorSpec& m, const lake::Lake& lake,
                            const MonitorRunOptions& options, MonitorResult* r,
                            std::optional<Firing>* firing) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<lake::Manifest> history, lake.History(m.dataset));
  if (history.empty()) return base::NotFound("dataset '" + m.dataset + "' has no versions yet");
  ProfileOptions po;
  po.threads = options.threads;
  const std::string column = m.column.value_or("");
  const std::string metric = m.metric.value_or("rows");
  // The current version and as many earlier ones as the rules look at.
  const size_t need = m.max_zscore ? static_cast<size_t>(m.window) + 1 : (m.max_change ? 2 : 1);
  const size_t first = history.size() > need ? history.size() - need : 0;
  std::vector<double> values;  // oldest first; earlier versions without the value are skipped
  std::optional<double> current;
  for (size_t i = first; i < history.size(); ++i) {
    SLUICE_ASSIGN_OR_RETURN(Profile p, EnsureProfile(lake, history[i], po));
    if (!column.empty() && p.Find(column) == nullptr) {
      if (i + 1 == history.size()) {
        return base::NotFound("dataset '" + m.dataset + "' has no column '" + column + "'");
      }
      continue;
    }
    auto v = ProfileMetric(p, column, metric);
    if (i + 1 == history.size()) {
      current = v;
    } else if (v) {
      values.push_back(*v);
    }
  }
  r->version = history.back().id;
  const std::string what = metric + (column.empty() ? "" : " of " + column);
  if (!current) {
    r->summary = what + " has no value in version " + r->version.substr(0, 12);
    if (m.min || m.max) {
      *firing = Firing{"missing", what + " has no value (all nulls?)", {{"metric", metric}}};
    }
    return base::Status();
  }
  const double v = *current;
  r->summary = what + " = " + Num(v);
  nlohmann::json details = {{"metric", metric}, {"column", column}, {"value", v}};
  if (m.min && v < *m.min) {
    *firing = Firing{"min", what + " " + Num(v) + " is below the minimum " + Num(*m.min), details};
    return base::Status();
  }
  if (m.max && v > *m.max) {
    *firing = Firing{"max", what + " " + Num(v) + " is above the maximum " + Num(*m.max), details};
    return base::Status();
  }
  if (m.max_change && !values.empty()) {
    const double prev = values.back();
    const double change =
        prev == 0 ? (v == 0 ? 0.0 : INFINITY) : std::abs(v - prev) / std::abs(prev);
    r->summary += ", change " + (std::isfinite(change) ? Num(change * 100) + "%" : "from 0");
    if (change > *m.max_change) {
      details["previous"] = prev;
      *firing = Firing{"max_change",
                       what + " changed from " + Num(prev) + " to " + Num(v) + " (more than " +
                           Num(*m.max_change * 100) + "%)",
                       details};
      return base::Status();
    }
  }
  if (m.max_zscore) {
    if (values.size() < 2) {
      r->summary +=
          ", z-score needs 2 earlier versions (has " + std::to_string(values.size()) + ")";
    } else {
      double mean = 0;
      for (double x : values)
        mean += x;
      mean /= static_cast<double>(values.size());
      double ss = 0;
      for (double x : values)
        ss += (x - mean) * (x - mean);
      const double sd = std::sqrt(ss / static_cast<double>(values.size() - 1));
      const double z = sd > 0 ? (v - mean) / sd : (v == mean ? 0.0 : INFINITY);
      r->summary += ", z " + (std::isfinite(z) ? Num(z) : std::string("inf")) + " against " +
                    std::to_string(values.size()) + " versions";
      if (std::abs(z) > *m.max_zscore) {
        details["mean"] = mean;
        details["stddev"] = sd;
        *firing =
            Firing{"max_zscore",
                   what + " " + Num(v) + " is " +
                       (std::isfinite(z) ? Num(std::abs(z)) : std::string("infinitely many")) +
                       " standard deviations from its mean " + Num(mean) + " over the last " +
                       std::to_string(values.size()) + " versions",
                   details};
      }
    }
  }
  return base::Status();
}

base::Status EvaluateDrift(const config::MonitorSpec& m, const config::ProjectSpec& project,
                           const lake::Lake& lake, base::Clock& clock,
                           const MonitorRunOptions& options, MonitorResult* r,
                           std::optional<Firing>* firing) {
  const auto now = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          clock.Now().time_since_epoch()));
  SLUICE_ASSIGN_OR_RETURN(DriftSide ref, ResolveDriftSide(*m.reference, project, lake, now));
  SLUICE_ASSIGN_OR_RETURN(DriftSide cur,
                          ResolveDriftSide(m.current.value_or(m.dataset), project, lake, now));
  DriftSettings settings = SettingsFromProject(project);
  if (m.method) settings.method = *m.method;
  settings.columns = m.columns;
  settings.threads = options.threads;
  SLUICE_ASSIGN_OR_RETURN(DriftReport d, ComputeDrift(lake, ref, cur, settings));
  r->version = d.current_version;
  r->summary = std::to_string(d.drifted_columns) + " of " + std::to_string(d.compared_columns) +
               " columns drifted against " + *m.reference;
  if (!d.dataset_drift) return base::Status();
  nlohmann::json drifted = nlohmann::json::array();
  for (const auto& c : d.columns) {
    if (!c.drifted) continue;
    drifted.push_back(
        {{"name", c.name}, {"method", c.method}, {"statistic", c.statistic.value_or(0)}});
  }
  *firing = Firing{"drift:" + d.reference_version,
                   "dataset drift in " + m.dataset + ": " + r->summary,
                   {{"drift_share", d.drift_share}, {"columns", drifted}}};
  return base::Status();
}

std::string Ago(std::int64_t micros) {
  return base::FormatDuration(base::Duration(micros < 0 ? 0 : micros));
}

// Judges one store's freshness of a view against its SLO: adds to the summary and, when the SLO
// is breached and nothing fired yet, fires. The fingerprint's rule names the store write, so a
// view that stays stale raises one alert, and a later write that is still late raises another.
void JudgeFreshness(const config::FreshnessSloSpec& slo, const ServedFreshness& f, MonitorResult* r,
                    std::optional<Firing>* firing) {
  std::string summary = "store " + f.store + ": event age " + Ago(f.event_age_micros);
  if (slo.max_event_age) summary += " (max " + base::FormatDuration(*slo.max_event_age) + ")";
  if (f.ingest_latency_micros) {
    summary += ", ingest-to-servable " + Ago(*f.ingest_latency_micros);
    if (slo.max_ingest_latency) {
      summary += " (max " + base::FormatDuration(*slo.max_ingest_latency) + ")";
    }
  }
  r->summary += (r->summary.empty() ? "" : "; ") + summary;
  if (r->version.empty()) r->version = f.source_version;
  nlohmann::json details = {{"view", slo.view},
                            {"store", f.store},
                            {"event_age_seconds", f.event_age_micros / 1e6},
                            {"newest_event", base::FormatTimestampMicros(f.newest_event_micros)},
                            {"materialized_at", f.materialized_at}};
  if (f.ingest_latency_micros) details["ingest_latency_seconds"] = *f.ingest_latency_micros / 1e6;
  if (*firing) return;
  if (slo.max_event_age && f.event_age_micros > slo.max_event_age->count()) {
    details["max_event_age_seconds"] = slo.max_event_age->count() / 1e6;
    *firing =
        Firing{"max_event_age@" + f.store + "@" + f.materialized_at,
               "view " + slo.view + " in store " + f.store +
                   ": the newest event behind the served values is " + Ago(f.event_age_micros) +
                   " old (SLO " + base::FormatDuration(*slo.max_event_age) + ")",
               details};
    r->version = f.source_version;
  } else if (slo.max_ingest_latency && f.ingest_latency_micros &&
             *f.ingest_latency_micros > slo.max_ingest_latency->count()) {
    details["max_ingest_latency_seconds"] = slo.max_ingest_latency->count() / 1e6;
    *firing = Firing{"max_ingest_latency@" + f.store + "@" + f.materialized_at,
                     "view " + slo.view + " in store " + f.store + ": data became servable " +
                         Ago(*f.ingest_latency_micros) + " after ingestion (SLO " +
                         base::FormatDuration(*slo.max_ingest_latency) + ")",
                     details};
    r->version = f.source_version;
  }
}

// A freshness SLO (monitoring.freshness) against every online store holding the view: the
// worst store counts.
base::Status EvaluateFreshness(const config::FreshnessSloSpec& slo,
                               const config::ProjectSpec& project, const lake::Lake& lake,
                               base::Clock& clock, MonitorResult* r,
                               std::optional<Firing>* firing) {
  const config::FeatureViewSpec* view = project.FindFeatureView(slo.view);
  if (view == nullptr) return base::NotFound("no feature view '" + slo.view + "'");
  const std::int64_t now = clock.Now().time_since_epoch().count();
  std::string problems;
  bool found = false;
  for (const auto& store_spec : project.online_stores) {
    auto opened = store::OpenOnlineStore(store_spec, project.dir, /*read_only=*/true, {});
    if (!opened.ok()) {
      problems += "; online store '" + store_spec.name + "': " + opened.status().ToString();
      continue;
    }
    auto meta = (*opened)->Meta(slo.view);
    if (!meta.ok()) {
      problems += "; online store '" + store_spec.name + "': " + meta.status().ToString();
      continue;
    }
    if (!*meta) continue;
    found = true;
    const engine::ViewFreshness f = engine::MeasureFreshness(
        project, *view, **meta, engine::SourceCreatedAt(lake, **meta), now);
    JudgeFreshness(slo,
                   ServedFreshness{slo.view, store_spec.name, (*meta)->source_version,
                                   (*meta)->materialized_at, (*meta)->newest_event_micros,
                                   f.event_age_micros, f.ingest_latency_micros},
                   r, firing);
  }
  if (!found) {
    return base::NotFound("view '" + slo.view + "' is not materialized in any online store" +
                          problems);
  }
  return base::Status();
}

// What raises an alert: a declared monitor or a freshness SLO.
struct Check {
  std::string name;
  std::string dataset;
  config::Severity severity;
  const std::vector<std::string>* sinks;
  const config::MonitorSpec* monitor = nullptr;
  const config::FreshnessSloSpec* slo = nullptr;
};

Check FreshnessCheck(const config::FreshnessSloSpec& f) {
  return Check{"freshness:" + f.view, f.view, f.severity, &f.sinks, nullptr, &f};
}

// Records the alert in the registry and, unless the same alert (fingerprint) was raised before,
// sends it to the check's sinks. r->version must be set.
base::Status Raise(const config::ProjectSpec& project, registry::Registry& registry,
                   base::Clock& clock, const Check& m, const Firing& firing, MonitorResult* r) {
  r->status = "alert";
  r->fingerprint = m.name + ":" + firing.rule + ":" + r->version;
  const std::string raised_at = base::FormatTime(clock.Now());
  nlohmann::json payload = {{"monitor", m.name},         {"severity", r->severity},
                            {"dataset", m.dataset},      {"version", r->version},
                            {"message", firing.message}, {"fingerprint", r->fingerprint},
                            {"raised_at", raised_at},    {"details", firing.details}};
  registry::AlertRecord record;
  record.fingerprint = r->fingerprint;
  record.monitor = m.name;
  record.dataset = m.dataset;
  record.version = r->version;
  record.severity = r->severity;
  record.message = firing.message;
  record.details = firing.details.dump();
  record.last_raised_at = raised_at;
  SLUICE_ASSIGN_OR_RETURN(bool first, registry.RecordAlert(record));
  r->summary = firing.message;
  r->repeated = !first;
  if (r->repeated) return base::Status();
  const std::string body = payload.dump();
  std::string delivery;
  for (const auto& sink : project.monitoring.sinks) {
    if (!m.sinks->empty() &&
        std::find(m.sinks->begin(), m.sinks->end(), sink.name) == m.sinks->end()) {
      continue;
    }
    std::string line;
    if (sink.type == config::AlertSinkType::kLog) {
      base::LogWarn("alert [" + r->severity + "] " + m.name + ": " + firing.message);
      line = "log " + sink.name;
    } else {
      line = PostWebhook(sink, body, clock).detail;
    }
    delivery += (delivery.empty() ? "" : "; ") + line;
    r->deliveries.push_back(line);
  }
  return registry.SetAlertDelivery(r->fingerprint, delivery);
}

}  // namespace

std::optional<double> ProfileMetric(const Profile& p, const std::string& column,
                                    const std::string& metric) {
  if (metric == "rows") return static_cast<double>(p.rows);
  const ColumnProfile* c = p.Find(column);
  if (c == nullptr) return std::nullopt;
  if (metric == "count") return static_cast<double>(c->count);
  if (metric == "nulls") return static_cast<double>(c->nulls);
  if (metric == "null_share") {
    return p.rows == 0 ? std::nullopt
                       : std::optional<double>(static_cast<double>(c->nulls) / p.rows);
  }
  if (metric == "distinct") return static_cast<double>(c->distinct);
  if (metric == "mean") return c->mean;
  if (metric == "stddev") return c->stddev;
  if (metric == "min") return c->min;
  if (metric == "max") return c->max;
  static const char* kNames[] = {"p1", "p5", "p25", "p50", "p75", "p95", "p99"};
  for (size_t k = 0; k < 7; ++k) {
    if (metric == kNames[k]) {
      return c->quantiles.size() == 7 ? std::optional<double>(c->quantiles[k]) : std::nullopt;
    }
  }
  return std::nullopt;
}

base::Result<std::vector<MonitorResult>> RunMonitors(const config::ProjectSpec& project,
                                                     const lake::Lake& lake,
                                                     registry::Registry& registry,
                                                     base::Clock& clock,
                                                     const MonitorRunOptions& options) {
  // Declared monitors, then freshness SLOs (named "freshness:<view>").
  std::vector<Check> all;
  for (const auto& m : project.monitoring.monitors)
    all.push_back({m.name, m.dataset, m.severity, &m.sinks, &m, nullptr});
  for (const auto& f : project.monitoring.freshness)
    all.push_back(FreshnessCheck(f));
  std::vector<const Check*> selected;
  for (const auto& name : options.names) {
    auto it = std::find_if(all.begin(), all.end(), [&](const auto& c) { return c.name == name; });
    if (it == all.end()) {
      return base::InvalidArgument("no monitor '" + name + "' in project '" + project.name + "'");
    }
    selected.push_back(&*it);
  }
  if (options.names.empty()) {
    for (const auto& c : all)
      selected.push_back(&c);
  }
  std::vector<MonitorResult> results;
  for (const Check* c : selected) {
    MonitorResult r;
    r.monitor = c->name;
    r.dataset = c->dataset;
    r.severity = std::string(config::Name(c->severity));
    std::optional<Firing> firing;
    base::Status s;
    if (c->slo != nullptr) {
      s = EvaluateFreshness(*c->slo, project, lake, clock, &r, &firing);
    } else if (c->monitor->type == config::MonitorType::kMetric) {
      s = EvaluateMetric(*c->monitor, lake, options, &r, &firing);
    } else {
      s = EvaluateDrift(*c->monitor, project, lake, clock, options, &r, &firing);
    }
    const Check* m = c;
    if (!s.ok()) {
      r.status = "error";
      r.summary = s.ToString();
      results.push_back(std::move(r));
      continue;
    }
    if (!firing) {
      r.status = "ok";
      results.push_back(std::move(r));
      continue;
    }
    SLUICE_RETURN_IF_ERROR(Raise(project, registry, clock, *m, *firing, &r));
    results.push_back(std::move(r));
  }
  return results;
}

base::Result<std::vector<MonitorResult>> CheckServedFreshness(
    const config::ProjectSpec& project, registry::Registry& registry, base::Clock& clock,
    const std::vector<ServedFreshness>& served) {
  std::vector<MonitorResult> results;
  for (const auto& slo : project.monitoring.freshness) {
    const Check check = FreshnessCheck(slo);
    MonitorResult r;
    r.monitor = check.name;
    r.dataset = check.dataset;
    r.severity = std::string(config::Name(check.severity));
    std::optional<Firing> firing;
    for (const ServedFreshness& f : served) {
      if (f.view == slo.view) JudgeFreshness(slo, f, &r, &firing);
    }
    if (r.summary.empty()) continue;  // not served here: nothing to judge
    if (!firing) {
      r.status = "ok";
    } else {
      SLUICE_RETURN_IF_ERROR(Raise(project, registry, clock, check, *firing, &r));
    }
    results.push_back(std::move(r));
  }
  return results;
}

}  // namespace sluice::quality
