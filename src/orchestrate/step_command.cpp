#include "orchestrate/step_command.h"

namespace sluice::orchestrate {
namespace {

// 'text' for /bin/sh, with embedded single quotes closed, escaped and reopened.
std::string ShellQuoted(const std::string& text) {
  std::string out = "'";
  for (char c : text)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

std::vector<std::string> StepArgv(const config::StepSpec& step,
                                  const std::filesystem::path& project_dir,
                                  const std::filesystem::path& sluice_binary,
                                  const StepValues& values) {
  using config::StepKind;
  if (step.run == StepKind::kCommand) return {"/bin/sh", "-c", step.command.value_or("")};
  std::vector<std::string> argv = {sluice_binary.string()};
  auto verb = [&](const char* name, const std::vector<std::string>& args) {
    argv.push_back(name);
    argv.push_back("-p");
    argv.push_back(project_dir.string());
    argv.insert(argv.end(), args.begin(), args.end());
  };
  // profile/drift: the datasets the step names besides its training set.
  std::vector<std::string> targets = step.sources;
  targets.insert(targets.end(), step.feature_views.begin(), step.feature_views.end());
  // Several sluice invocations as one step: a shell line, each argument quoted.
  auto chain = [&](const std::vector<std::vector<std::string>>& commands) {
    if (commands.size() == 1) return commands[0];
    std::string line;
    for (const auto& c : commands) {
      if (!line.empty()) line += " && ";
      for (size_t i = 0; i < c.size(); ++i)
        line += (i ? " " : "") + ShellQuoted(c[i]);
    }
    return std::vector<std::string>{"/bin/sh", "-c", line};
  };
  const std::string exe = sluice_binary.string();
  const std::string dir = project_dir.string();
  if (step.run == StepKind::kProfile) {
    std::vector<std::vector<std::string>> commands;
    if (step.training_set) targets.push_back(*step.training_set);
    for (const auto& t : targets)
      commands.push_back({exe, "profile", "-p", dir, t});
    return chain(commands);
  }
  if (step.run == StepKind::kDrift) {
    // Against the training set: each named dataset's current version. Without one: the
    // project's declared monitors (where drift checks are configured).
    if (!step.training_set || targets.empty())
      return {exe, "monitor", "-p", dir, "--fail-on-alert"};
    std::vector<std::vector<std::string>> commands;
    for (const auto& t : targets) {
      commands.push_back({exe, "drift", "-p", dir, "--reference", *step.training_set, "--current",
                          t, "--fail-on-drift"});
    }
    return chain(commands);
  }
  // After the model names: "--var k=v" is one argument each, so a value cannot become a flag.
  std::vector<std::string> model_args = step.models;
  if (values.interval) {
    model_args.push_back("--interval-start=" + values.interval->first);
    model_args.push_back("--interval-end=" + values.interval->second);
  }
  for (const auto& [k, v] : values.vars)
    model_args.push_back("--var=" + k + "=" + v);
  switch (step.run) {
    case StepKind::kIngest:
      verb("ingest", step.sources);
      break;
    case StepKind::kBuild:
      verb("build", model_args);
      break;
    case StepKind::kTest:
      verb("test", model_args);
      break;
    case StepKind::kMonitor: {
      std::vector<std::string> args = step.monitors;
      if (step.fail_on_alert) args.push_back("--fail-on-alert");
      verb("monitor", args);
      break;
    }
    case StepKind::kTrainingSet:
      verb("training-set", {step.training_set.value_or("")});
      break;
    case StepKind::kMaterialize:
      verb("materialize", step.feature_views);
      break;
    case StepKind::kProfile:
    case StepKind::kDrift:
    case StepKind::kCommand:
      break;
  }
  return argv;
}

}  // namespace sluice::orchestrate
