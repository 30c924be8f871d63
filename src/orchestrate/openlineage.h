#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "config/project.h"
#include "orchestrate/pipeline_runner.h"

namespace sluice::orchestrate {

// Where OpenLineage events go.
struct OpenLineageSink {
  std::optional<std::string> url;             // POST each event here
  std::optional<std::filesystem::path> file;  // append each event as one JSON line
  std::string job_namespace;                  // "sluice/<project>"
  std::string producer;                       // a URI naming this sluice and its version
};

// Emits OpenLineage RunEvents (spec 2-0-2) for a pipeline run and each step attempt: START when
// it starts, COMPLETE or FAIL when it ends. The pipeline is the job "<pipeline>", a step the job
// "<pipeline>.<step>" with a parent facet naming the pipeline's run. Datasets are the project's
// sources, models, training sets, feature views and online stores a step reads and writes.
// Delivery failures are logged and never fail the run.
class OpenLineageEmitter final : public RunObserver {
 public:
  OpenLineageEmitter(const config::ProjectSpec& project, const config::PipelineSpec& pipeline,
                     OpenLineageSink sink, base::Clock& clock);

  void RunStarted(std::int64_t run_id) override;
  void RunEnded(std::int64_t run_id, const std::string& status, const std::string& error) override;
  void StepStarted(const config::StepSpec& step, int attempt) override;
  void StepEnded(const config::StepSpec& step, int attempt, bool succeeded,
                 const std::string& error) override;

  // The JSON of one event (exposed for tests).
  std::string Event(const std::string& type, const std::string& run_uuid, const std::string& job,
                    const config::StepSpec* step, const std::string& error) const;
  // Events that could not be delivered so far.
  int failures() const { return failures_; }

 private:
  void Send(const std::string& json);
  std::vector<std::string> Inputs(const config::StepSpec& step) const;
  std::vector<std::string> Outputs(const config::StepSpec& step) const;

  const config::ProjectSpec& project_;
  const config::PipelineSpec& pipeline_;
  OpenLineageSink sink_;
  base::Clock& clock_;
  std::string run_uuid_;
  std::map<std::string, std::string> step_uuids_;  // step -> its current attempt's run id
  int failures_ = 0;
};

// A random (version 4) UUID, as OpenLineage run ids are.
std::string RandomUuid();

}  // namespace sluice::orchestrate
