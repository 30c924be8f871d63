#include "orchestrate/data_behind.h"

#include <set>

namespace sluice::orchestrate {

base::Result<std::vector<lake::Manifest>> DataBehind(const lake::Lake& lake,
                                                     const std::string& version) {
  std::vector<lake::Manifest> out;
  std::set<std::string> done;
  // Iterative post-order over parents: a deep chain of models must not exhaust the stack.
  struct Frame {
    lake::Manifest m;
    size_t next = 0;
  };
  SLUICE_ASSIGN_OR_RETURN(auto root, lake.FindVersion(version));
  std::vector<Frame> stack;
  std::set<std::string> active = {root.id};
  stack.push_back({std::move(root), 0});
  while (!stack.empty()) {
    Frame& top = stack.back();
    if (top.next == top.m.parents.size()) {
      done.insert(top.m.id);
      active.erase(top.m.id);
      out.push_back(std::move(top.m));
      stack.pop_back();
      continue;
    }
    const std::string parent = top.m.parents[top.next++];
    if (done.count(parent) || active.count(parent)) continue;
    auto m = lake.FindVersion(parent);
    if (!m.ok()) {
      return m.status().WithContext("version " + parent.substr(0, 12) + ", a parent of " +
                                    top.m.dataset + "@" + top.m.id.substr(0, 12));
    }
    active.insert(m->id);
    stack.push_back({std::move(m).value(), 0});
  }
  return out;
}

}  // namespace sluice::orchestrate
