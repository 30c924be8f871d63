#include "orchestrate/step_command.h"

namespace sluice::orchestrate {

std::vector<std::string> StepArgv(const config::StepSpec& step,
                                  const std::filesystem::path& project_dir,
                                  const std::filesystem::path& sluice_binary) {
  using config::StepKind;
  if (step.run == StepKind::kCommand) return {"/bin/sh", "-c", step.command.value_or("")};
  std::vector<std::string> argv = {sluice_binary.string()};
  auto verb = [&](const char* name, const std::vector<std::string>& args) {
    argv.push_back(name);
    argv.push_back("-p");
    argv.push_back(project_dir.string());
    argv.insert(argv.end(), args.begin(), args.end());
  };
  // profile/drift: the targets the step names, in the order sources, views, training set.
  auto targets = [&] {
    std::vector<std::string> t = step.sources;
    t.insert(t.end(), step.feature_views.begin(), step.feature_views.end());
    if (step.training_set) t.push_back(*step.training_set);
    return t;
  };
  switch (step.run) {
    case StepKind::kIngest:
      verb("ingest", step.sources);
      break;
    case StepKind::kBuild:
      verb("build", step.models);
      break;
    case StepKind::kTest:
      verb("test", step.models);
      break;
    case StepKind::kTrainingSet:
      verb("training-set", {step.training_set.value_or("")});
      break;
    case StepKind::kMaterialize:
      verb("materialize", step.feature_views);
      break;
    case StepKind::kProfile:
      verb("profile", targets());
      break;
    case StepKind::kDrift:
      verb("drift", targets());
      break;
    case StepKind::kCommand:
      break;
  }
  return argv;
}

}  // namespace sluice::orchestrate
