#include "orchestrate/openlineage.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>
#include <set>

#include "base/http_post.h"
#include "base/json_text.h"
#include "base/log.h"

namespace sluice::orchestrate {
namespace {

constexpr const char* kSchemaUrl =
    "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";
constexpr const char* kParentFacetSchema =
    "https://openlineage.io/spec/facets/1-0-1/ParentRunFacet.json#/$defs/ParentRunFacet";
constexpr const char* kErrorFacetSchema =
    "https://openlineage.io/spec/facets/1-0-1/ErrorMessageRunFacet.json#/$defs/"
    "ErrorMessageRunFacet";

std::string Q(const std::string& s) {
  return base::JsonQuoted(s);
}

}  // namespace

std::string RandomUuid() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uint64_t hi = rng(), lo = rng();
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0xffff),
                static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

OpenLineageEmitter::OpenLineageEmitter(const config::ProjectSpec& project,
                                       const config::PipelineSpec& pipeline, OpenLineageSink sink,
                                       base::Clock& clock)
    : project_(project), pipeline_(pipeline), sink_(std::move(sink)), clock_(clock) {}

std::vector<std::string> OpenLineageEmitter::Outputs(const config::StepSpec& s) const {
  using config::StepKind;
  switch (s.run) {
    case StepKind::kIngest:
      return s.sources;
    case StepKind::kBuild:
      return s.models.empty() ? project_.models.files : s.models;
    case StepKind::kTrainingSet:
      return {s.training_set.value_or("")};
    case StepKind::kMaterialize:
      if (!project_.online_stores.empty())
        return {"online_store." + project_.online_stores[0].name};
      return {};
    default:
      return {};
  }
}

std::vector<std::string> OpenLineageEmitter::Inputs(const config::StepSpec& s) const {
  using config::StepKind;
  std::set<std::string> in;
  switch (s.run) {
    case StepKind::kIngest:
      for (const auto& src : s.sources) {
        if (const auto* spec = project_.FindSource(src); spec && !spec->path.empty())
          in.insert("file:" + spec->path);
      }
      break;
    case StepKind::kTest:
      in.insert(s.models.begin(), s.models.end());
      break;
    case StepKind::kMaterialize:
      in.insert(s.feature_views.begin(), s.feature_views.end());
      break;
    case StepKind::kMonitor:
      for (const auto& m : project_.monitoring.monitors) {
        if (s.monitors.empty() ||
            std::find(s.monitors.begin(), s.monitors.end(), m.name) != s.monitors.end())
          in.insert(m.dataset);
      }
      break;
    case StepKind::kProfile:
    case StepKind::kDrift:
      in.insert(s.sources.begin(), s.sources.end());
      in.insert(s.feature_views.begin(), s.feature_views.end());
      if (s.training_set) in.insert(*s.training_set);
      break;
    default:
      break;
  }
  // What the steps it waits for wrote.
  for (const auto& dep : s.depends_on) {
    for (const auto& d : pipeline_.steps) {
      if (d.name != dep) continue;
      for (auto& o : Outputs(d))
        in.insert(o);
    }
  }
  return {in.begin(), in.end()};
}

std::string OpenLineageEmitter::Event(const std::string& type, const std::string& run_uuid,
                                      const std::string& job, const config::StepSpec* step,
                                      const std::string& error) const {
  auto datasets = [&](const std::vector<std::string>& names) {
    std::string out = "[";
    for (size_t i = 0; i < names.size(); ++i) {
      const bool file = names[i].rfind("file:", 0) == 0;
      out += (i ? "," : "") + std::string("{\"namespace\":") +
             Q(file ? "file" : sink_.job_namespace) +
             ",\"name\":" + Q(file ? names[i].substr(5) : names[i]) + "}";
    }
    return out + "]";
  };
  std::string facets;
  if (step) {
    facets += "\"parent\":{\"_producer\":" + Q(sink_.producer) +
              ",\"_schemaURL\":" + Q(kParentFacetSchema) + ",\"run\":{\"runId\":" + Q(run_uuid_) +
              "},\"job\":{\"namespace\":" + Q(sink_.job_namespace) +
              ",\"name\":" + Q(pipeline_.name) + "}}";
  }
  if (!error.empty()) {
    facets += std::string(facets.empty() ? "" : ",") +
              "\"errorMessage\":{\"_producer\":" + Q(sink_.producer) +
              ",\"_schemaURL\":" + Q(kErrorFacetSchema) + ",\"message\":" + Q(error) +
              ",\"programmingLanguage\":\"shell\"}";
  }
  std::string out =
      "{\"eventType\":" + Q(type) + ",\"eventTime\":" + Q(base::FormatTime(clock_.Now())) +
      ",\"run\":{\"runId\":" + Q(run_uuid) + ",\"facets\":{" + facets +
      "}},\"job\":{\"namespace\":" + Q(sink_.job_namespace) + ",\"name\":" + Q(job) + "}";
  if (step) {
    out += ",\"inputs\":" + datasets(Inputs(*step)) + ",\"outputs\":" + datasets(Outputs(*step));
  } else {
    out += ",\"inputs\":[],\"outputs\":[]";
  }
  out += ",\"producer\":" + Q(sink_.producer) + ",\"schemaURL\":" + Q(kSchemaUrl) + "}";
  return out;
}

void OpenLineageEmitter::Send(const std::string& json) {
  if (sink_.file) {
    std::ofstream out(*sink_.file, std::ios::app | std::ios::binary);
    out << json << "\n";
    if (!out) {
      ++failures_;
      base::LogWarn("openlineage: cannot append to '" + sink_.file->string() + "'");
    }
  }
  if (sink_.url) {
    if (base::Status s = base::HttpPostJson(*sink_.url, json, std::chrono::seconds(5)); !s.ok()) {
      ++failures_;
      base::LogWarn("openlineage: " + s.ToString());
    }
  }
}

void OpenLineageEmitter::RunStarted(std::int64_t) {
  run_uuid_ = RandomUuid();
  Send(Event("START", run_uuid_, pipeline_.name, nullptr, ""));
}

void OpenLineageEmitter::RunEnded(std::int64_t, const std::string& status,
                                  const std::string& error) {
  const bool ok = status == "succeeded";
  Send(Event(ok                        ? "COMPLETE"
             : status == "interrupted" ? "ABORT"
                                       : "FAIL",
             run_uuid_, pipeline_.name, nullptr, ok ? "" : error));
}

void OpenLineageEmitter::StepStarted(const config::StepSpec& step, int) {
  std::string& uuid = step_uuids_[step.name];
  uuid = RandomUuid();
  Send(Event("START", uuid, pipeline_.name + "." + step.name, &step, ""));
}

void OpenLineageEmitter::StepEnded(const config::StepSpec& step, int, bool succeeded,
                                   const std::string& error) {
  Send(Event(succeeded ? "COMPLETE" : "FAIL", step_uuids_[step.name],
             pipeline_.name + "." + step.name, &step, error));
}

}  // namespace sluice::orchestrate
