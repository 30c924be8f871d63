// `sluice lineage NODE`: the registry's lineage edges around one node, as text or DOT.
#include <cstdio>
#include <map>

#include "cli/commands.h"
#include "cli/exit_code.h"
#include "cli/project_context.h"
#include "orchestrate/lineage_graph.h"

namespace sluice::cli {

int RunLineage(const LineageOptions& options) {
  int code = kExitOk;
  auto ctx = OpenProject(options.project, &code);
  if (!ctx) return code;
  lake::Lake& lake = *ctx->lake;
  // NODE: a version id or prefix, a dataset name (its current version), or a raw node.
  std::string root = options.node;
  const bool is_raw = root.rfind("file:", 0) == 0 || root.rfind("model:", 0) == 0 ||
                      root.rfind("online_store:", 0) == 0;
  if (!is_raw) {
    if (auto v = lake.FindVersion(root); v.ok()) {
      root = v->id;
    } else if (auto cur = lake.Current(root); cur.ok() && *cur) {
      root = (*cur)->id;
    } else {
      return ReportFailure(base::NotFound("'" + options.node +
                                          "' is neither a dataset with versions nor a version id "
                                          "(see `sluice versions`), nor a model:NAME@vN, "
                                          "online_store:STORE/VIEW or file:PATH@SHA node"));
    }
  }
  const auto direction = options.upstream     ? orchestrate::LineageDirection::kUpstream
                         : options.downstream ? orchestrate::LineageDirection::kDownstream
                                              : orchestrate::LineageDirection::kBoth;
  auto graph = orchestrate::WalkLineage(
      root, direction, options.depth,
      [&](const std::string& node) { return ctx->registry->Lineage(node); });
  if (!graph.ok()) return ReportFailure(graph.status());
  std::map<std::string, std::string> labels;
  auto label = [&](const std::string& node) -> std::string {
    if (auto it = labels.find(node); it != labels.end()) return it->second;
    std::string text = node;
    if (node.rfind("file:", 0) != 0 && node.rfind("model:", 0) != 0 &&
        node.rfind("online_store:", 0) != 0) {
      if (auto m = lake.FindVersion(node); m.ok()) {
        text = m->dataset + "@" + m->id.substr(0, 12) + " (" + m->kind + ")";
      }
    } else if (node.rfind("file:", 0) == 0) {
      // file:PATH@SHA256: the hash shortened as version ids are.
      const size_t at = node.rfind('@');
      if (at != std::string::npos && node.size() - at > 13) text = node.substr(0, at + 13);
    }
    labels.emplace(node, text);
    return text;
  };
  const std::string out = options.dot ? orchestrate::LineageDot(*graph, label)
                                      : orchestrate::LineageText(*graph, direction, label);
  std::fwrite(out.data(), 1, out.size(), stdout);
  return kExitOk;
}

}  // namespace sluice::cli
