#include "serve/catalog.h"

#include <algorithm>

namespace sluice::serve {

bool ViewSchema::HasFeature(std::string_view feature) const {
  return std::find(features.begin(), features.end(), feature) != features.end();
}

const ViewSchema* Catalog::FindView(std::string_view name) const {
  for (const auto& v : views) {
    if (v.name == name) return &v;
  }
  return nullptr;
}

const ServiceSchema* Catalog::FindService(std::string_view name) const {
  for (const auto& s : services) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

base::Result<std::vector<ServiceSchema>> ResolveServices(const config::ProjectSpec& project,
                                                         const std::vector<ViewSchema>& views) {
  std::vector<ServiceSchema> out;
  for (const auto& service : project.feature_services) {
    ServiceSchema s;
    s.name = service.name;
    s.store = service.online_store;
    for (const auto& ref : service.features) {
      const auto colon = ref.find(':');
      const std::string view_name = ref.substr(0, colon);
      auto view = std::find_if(views.begin(), views.end(),
                               [&](const ViewSchema& v) { return v.name == view_name; });
      if (view == views.end()) {
        return base::InvalidArgument("feature service '" + s.name + "': no feature view '" +
                                     view_name + "'");
      }
      if (colon == std::string::npos) {
        for (const auto& f : view->features)
          s.features.emplace_back(view_name, f);
        continue;
      }
      std::string feature = ref.substr(colon + 1);
      // A view that cannot be served has no feature list; the request is refused as not ready.
      if (view->unavailable.empty() && !view->HasFeature(feature)) {
        return base::InvalidArgument("feature service '" + s.name + "': feature view '" +
                                     view_name + "' has no feature '" + feature + "'");
      }
      s.features.emplace_back(view_name, std::move(feature));
    }
    out.push_back(std::move(s));
  }
  return out;
}

base::Result<const config::OnlineStoreSpec*> ChooseOnlineStore(const config::ProjectSpec& project,
                                                               const std::string& name) {
  if (project.online_stores.empty()) {
    return base::InvalidArgument("project '" + project.name + "' declares no online_stores");
  }
  if (name.empty()) return &project.online_stores.front();
  const auto* s = project.FindOnlineStore(name);
  if (s == nullptr) return base::InvalidArgument("no online store '" + name + "'");
  return s;
}

}  // namespace sluice::serve
