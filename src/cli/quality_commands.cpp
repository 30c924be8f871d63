// `sluice profile`, `sluice drift` and `sluice monitor`: printing around src/quality.
#include <cmath>
#include <cstdio>
#include <string>

#include "base/clock.h"
#include "base/json_text.h"
#include "cli/commands.h"
#include "cli/exit_code.h"
#include "cli/project_context.h"
#include "cli/publish_profile.h"
#include "quality/drift.h"
#include "quality/html_report.h"
#include "quality/monitor.h"
#include "quality/profile.h"

namespace sluice::cli {
namespace {

std::string Fmt(const std::optional<double>& v) {
  if (!v || !std::isfinite(*v)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", *v);
  return buf;
}

std::string Cut(const std::string& s, size_t width) {
  return s.size() <= width ? s : s.substr(0, width - 1) + "~";
}

// A dataset name (its current version) or a version id / prefix.
base::Result<lake::Manifest> FindManifest(const lake::Lake& lake, const std::string& what) {
  auto current = lake.Current(what);
  if (current.ok() && current->has_value()) return std::move(**current);
  auto version = lake.FindVersion(what);
  if (!version.ok()) {
    return base::NotFound("'" + what + "' is neither a dataset with versions nor a version id (" +
                          version.status().message() + ")");
  }
  return version;
}

void PrintProfile(const quality::Profile& p) {
  std::printf("%s version %s: %lld rows, %zu columns\n", p.dataset.c_str(),
              p.version.substr(0, 12).c_str(), static_cast<long long>(p.rows), p.columns.size());
  std::printf("%-20s %-9s %10s %8s %9s %11s %11s %11s %11s %11s  %s\n", "column", "type", "count",
              "nulls", "distinct", "mean", "stddev", "min", "p50", "max", "top");
  for (const auto& c : p.columns) {
    std::string top;
    for (size_t i = 0; i < c.top.size() && i < 3; ++i) {
      top +=
          (i ? ", " : "") + Cut(c.top[i].value, 16) + " (" + std::to_string(c.top[i].count) + ")";
    }
    const std::string mn = quality::IsNumeric(c.type) ? Fmt(c.min) : c.min_text.value_or("-");
    const std::string mx = quality::IsNumeric(c.type) ? Fmt(c.max) : c.max_text.value_or("-");
    const std::string p50 = c.quantiles.size() == 7 ? Fmt(c.quantiles[3]) : "-";
    std::printf("%-20s %-9s %10lld %8lld %9lld %11s %11s %11s %11s %11s  %s\n",
                Cut(c.name, 20).c_str(), std::string(types::LogicalTypeName(c.type)).c_str(),
                static_cast<long long>(c.count), static_cast<long long>(c.nulls),
                static_cast<long long>(c.distinct), Fmt(c.mean).c_str(), Fmt(c.stddev).c_str(),
                Cut(mn, 11).c_str(), p50.c_str(), Cut(mx, 11).c_str(), top.c_str());
  }
}

void PrintDrift(const quality::DriftReport& r) {
  std::printf("drift of %s (%s, %lld rows) against %s (%s, %lld rows)\n", r.current.c_str(),
              r.current_version.substr(0, 12).c_str(), static_cast<long long>(r.current_rows),
              r.reference.c_str(), r.reference_version.substr(0, 12).c_str(),
              static_cast<long long>(r.reference_rows));
  std::printf("%-24s %-13s %12s %12s %10s  %s\n", "column", "method", "statistic", "p_value",
              "threshold", "drift");
  for (const auto& c : r.columns) {
    std::printf("%-24s %-13s %12s %12s %10s  %s\n", Cut(c.name, 24).c_str(), c.method.c_str(),
                Fmt(c.statistic).c_str(), Fmt(c.p_value).c_str(),
                c.compared ? Fmt(c.threshold).c_str() : "-",
                c.compared ? (c.drifted ? "DRIFT" : "ok") : ("not compared: " + c.note).c_str());
  }
  std::printf("%d of %d compared columns drifted (share %.3g, threshold %.3g): %s\n",
              r.drifted_columns, r.compared_columns, r.drift_share, r.share_threshold,
              r.dataset_drift ? "DATASET DRIFT" : "no dataset drift");
  if (r.label) {
    std::printf(
        "label rate of %s per feature bin (largest difference of a bin with enough rows):\n",
        r.label->c_str());
    for (const auto& c : r.concept_drift) {
      std::printf("%-24s %12s %10s  %s\n", Cut(c.name, 24).c_str(), Fmt(c.statistic).c_str(),
                  Fmt(c.threshold).c_str(),
                  c.statistic ? (c.drifted ? "CONCEPT DRIFT" : "ok") : "no bin with enough rows");
    }
  }
}

}  // namespace

void ProfilePublishedVersion(const ProjectContext& project, const lake::Manifest& manifest) {
  const auto& monitoring = project.spec.monitoring;
  if (monitoring.profile_on_publish) {
    auto p = quality::EnsureProfile(*project.lake, manifest);
    if (!p.ok()) {
      std::fprintf(stderr, "warning: no profile for %s version %s: %s\n", manifest.dataset.c_str(),
                   manifest.id.substr(0, 12).c_str(), p.status().ToString().c_str());
    }
  }
  if (!monitoring.monitor_on_publish) return;
  quality::MonitorRunOptions run;
  for (const auto& m : monitoring.monitors) {
    if (m.dataset == manifest.dataset) run.names.push_back(m.name);
  }
  if (run.names.empty()) return;
  auto results = quality::RunMonitors(project.spec, *project.lake, *project.registry,
                                      base::SystemClock::Instance(), run);
  if (!results.ok()) {
    std::fprintf(stderr, "warning: monitors of %s not run: %s\n", manifest.dataset.c_str(),
                 results.status().ToString().c_str());
    return;
  }
  for (const auto& r : *results) {
    if (r.status == "ok") continue;
    std::fprintf(stderr, "%s: monitor %s: %s%s\n", r.status == "alert" ? "alert" : "warning",
                 r.monitor.c_str(), r.summary.c_str(),
                 r.repeated ? " (already raised, not sent again)" : "");
  }
}

// `sluice profile DATASET --by hour|day`: the periods of an append-only dataset, oldest first.
int RunProfileByPeriod(const ProfileOptions& options, const ProjectContext& project) {
  quality::ProfilePeriod period;
  if (options.by == "hour") {
    period = quality::ProfilePeriod::kHour;
  } else if (options.by == "day") {
    period = quality::ProfilePeriod::kDay;
  } else {
    return ReportFailure(
        base::InvalidArgument("unknown --by '" + options.by + "' (one of hour, day)"));
  }
  if (options.recompute || !options.html.empty()) {
    return ReportFailure(base::InvalidArgument(
        "--by cannot be combined with --recompute or --html (periods are merged from stored "
        "segment profiles)"));
  }
  auto current = project.lake->Current(options.target);
  if (!current.ok() || !current->has_value()) {
    return ReportFailure(base::InvalidArgument("--by needs a dataset name with versions; '" +
                                               options.target + "' is not one"));
  }
  quality::ProfileOptions po;
  po.threads = options.threads;
  auto periods = quality::ProfilesByPeriod(*project.lake, options.target, period, po);
  if (!periods.ok()) return ReportFailure(periods.status());
  if (options.json) {
    std::string out = "{\"dataset\":" + base::JsonQuoted(options.target) + ",\"by\":\"" +
                      options.by + "\",\"periods\":[";
    for (size_t i = 0; i < periods->size(); ++i) {
      const auto& p = (*periods)[i];
      out += (i ? "," : "") + std::string("{\"period\":") + base::JsonQuoted(p.period) +
             ",\"versions\":[";
      for (size_t v = 0; v < p.versions.size(); ++v)
        out += (v ? "," : "") + base::JsonQuoted(p.versions[v]);
      out += "],\"profile\":" + quality::ProfileToJson(p.profile) + "}";
    }
    std::printf("%s]}\n", out.c_str());
    return kExitOk;
  }
  for (const auto& p : *periods) {
    std::printf("%s %s (%zu segments)\n", options.by.c_str(), p.period.c_str(), p.versions.size());
    PrintProfile(p.profile);
    std::printf("\n");
  }
  if (periods->empty()) std::printf("%s: no segments\n", options.target.c_str());
  return kExitOk;
}

int RunProfile(const ProfileOptions& options) {
  int code = kExitOk;
  auto project = OpenProject(options.project, &code);
  if (!project) return code;
  if (!options.by.empty()) return RunProfileByPeriod(options, *project);
  auto manifest = FindManifest(*project->lake, options.target);
  if (!manifest.ok()) return ReportFailure(manifest.status());
  quality::ProfileOptions po;
  po.threads = options.threads;
  auto profile = options.recompute ? quality::ComputeProfile(*project->lake, *manifest, po)
                                   : quality::EnsureProfile(*project->lake, *manifest, po);
  if (!profile.ok()) return ReportFailure(profile.status());
  if (options.recompute) {
    if (auto s = quality::StoreProfile(*project->lake, *manifest, *profile); !s.ok()) {
      return ReportFailure(s);
    }
  }
  if (!options.html.empty()) {
    if (auto s = quality::WriteHtmlReport(options.html, quality::ProfileHtml(*profile)); !s.ok()) {
      return ReportFailure(s.WithContext("--html"));
    }
  }
  if (options.json) {
    std::printf("%s\n", quality::ProfileToJson(*profile).c_str());
  } else {
    PrintProfile(*profile);
  }
  return kExitOk;
}

int RunDrift(const DriftOptions& options) {
  int code = kExitOk;
  auto project = OpenProject(options.project, &code);
  if (!project) return code;
  quality::DriftSettings settings = quality::SettingsFromProject(project->spec);
  settings.threads = options.threads;
  settings.columns = options.columns;
  if (!options.label.empty()) settings.label = options.label;
  if (!options.method.empty()) {
    bool found = false;
    for (auto m :
         {config::DriftMethod::kAuto, config::DriftMethod::kKs, config::DriftMethod::kWasserstein,
          config::DriftMethod::kPsi, config::DriftMethod::kJensenShannon,
          config::DriftMethod::kChiSquare, config::DriftMethod::kZTest}) {
      if (config::Name(m) == options.method) {
        settings.method = m;
        found = true;
      }
    }
    if (!found) {
      return ReportFailure(base::InvalidArgument(
          "unknown --method '" + options.method +
          "' (one of auto, ks, wasserstein, psi, jensenshannon, chisquare, ztest)"));
    }
  }
  const auto now = std::chrono::system_clock::now();
  auto ref = quality::ResolveDriftSide(options.reference, project->spec, *project->lake, now);
  if (!ref.ok()) return ReportFailure(ref.status().WithContext("--reference"));
  auto cur = quality::ResolveDriftSide(options.current, project->spec, *project->lake, now);
  if (!cur.ok()) return ReportFailure(cur.status().WithContext("--current"));
  auto report = quality::ComputeDrift(*project->lake, *ref, *cur, settings);
  if (!report.ok()) return ReportFailure(report.status());
  if (!options.html.empty()) {
    if (auto s = quality::WriteHtmlReport(options.html, quality::DriftHtml(*report)); !s.ok()) {
      return ReportFailure(s.WithContext("--html"));
    }
  }
  if (options.json) {
    std::printf("%s\n", quality::DriftToJson(*report).c_str());
  } else {
    PrintDrift(*report);
  }
  return options.fail_on_drift && report->dataset_drift ? kExitRuntimeFailure : kExitOk;
}

int RunMonitor(const MonitorOptions& options) {
  int code = kExitOk;
  auto project = OpenProject(options.project, &code);
  if (!project) return code;
  if (project->spec.monitoring.monitors.empty() && project->spec.monitoring.freshness.empty()) {
    std::printf(
        "project '%s' declares no monitors (monitoring.monitors or monitoring.freshness "
        "in sluice.yaml)\n",
        project->spec.name.c_str());
    return kExitOk;
  }
  quality::MonitorRunOptions run;
  run.names = options.monitors;
  run.threads = options.threads;
  auto results = quality::RunMonitors(project->spec, *project->lake, *project->registry,
                                      base::SystemClock::Instance(), run);
  if (!results.ok()) return ReportFailure(results.status());
  int alerts = 0, errors = 0;
  std::string json = "[";
  for (const auto& r : *results) {
    if (r.status == "alert") ++alerts;
    if (r.status == "error") ++errors;
    if (options.json) {
      json += std::string(json.size() > 1 ? "," : "") +
              "\n  {\"monitor\": " + base::JsonQuoted(r.monitor) +
              ", \"status\": " + base::JsonQuoted(r.status) +
              ", \"severity\": " + base::JsonQuoted(r.severity) +
              ", \"dataset\": " + base::JsonQuoted(r.dataset) +
              ", \"version\": " + base::JsonQuoted(r.version) +
              ", \"repeated\": " + (r.repeated ? "true" : "false") +
              ", \"summary\": " + base::JsonQuoted(r.summary) + "}";
      continue;
    }
    std::printf("%-24s %-6s %s\n", Cut(r.monitor, 24).c_str(), r.status.c_str(), r.summary.c_str());
    if (r.status == "alert") {
      if (r.repeated) std::printf("  already raised for this version: not sent again\n");
      for (const auto& d : r.deliveries)
        std::printf("  sent: %s\n", d.c_str());
    }
  }
  if (options.json) {
    std::printf("%s\n]\n", json.c_str());
  } else {
    std::printf("%zu monitors: %d alert%s, %d error%s\n", results->size(), alerts,
                alerts == 1 ? "" : "s", errors, errors == 1 ? "" : "s");
  }
  if (errors > 0) return kExitRuntimeFailure;
  return options.fail_on_alert && alerts > 0 ? kExitRuntimeFailure : kExitOk;
}

}  // namespace sluice::cli
