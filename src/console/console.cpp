#include "console/console.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <map>
#include <set>
#include <vector>

#include "base/time.h"
#include "console/assets.h"
#include "console/html_text.h"
#include "console/lineage_graph.h"
#include "lake/manifest.h"
#include "quality/profile.h"
#include "serve/json_writer.h"

namespace sluice::console {

namespace {

constexpr std::string_view kHtml = "text/html; charset=utf-8";
constexpr std::string_view kCss = "text/css; charset=utf-8";
constexpr std::string_view kJs = "text/javascript; charset=utf-8";
constexpr std::string_view kSvg = "image/svg+xml";
constexpr int kRunsShown = 200;
constexpr int kQuarantineSampleRows = 20;

struct NavItem {
  std::string_view page;
  std::string_view href;
  std::string_view title;
};
constexpr NavItem kNav[] = {{"overview", "/", "Overview"},
                            {"datasets", "/datasets", "Datasets"},
                            {"lineage", "/lineage", "Lineage"},
                            {"views", "/views", "Feature views"},
                            {"pipelines", "/pipelines", "Pipelines & runs"},
                            {"monitoring", "/monitoring", "Monitoring"}};

std::string Layout(const std::string& project, std::string_view page, const std::string& title,
                   const std::string& body) {
  std::string out =
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
      "<title>" +
      EscapeHtml(title) + " \u00b7 " + EscapeHtml(project) +
      " \u00b7 sluice</title><link rel=\"icon\" href=\"/assets/favicon.svg\">"
      "<link rel=\"stylesheet\" href=\"/assets/console.css\">"
      "<script src=\"/assets/console.js\" defer></script></head>\n<body data-page=\"" +
      std::string(page) +
      "\"><header><a class=\"brand\" href=\"/\">sluice</a><span class=\"project\">" +
      EscapeHtml(project) + "</span><nav>";
  for (const auto& n : kNav) {
    out += "<a href=\"" + std::string(n.href) + "\"" + (n.page == page ? " class=\"active\"" : "") +
           ">" + std::string(n.title) + "</a>";
  }
  out += "</nav></header>\n<main><h1>" + EscapeHtml(title) + "</h1>\n" + body +
         "</main>\n<footer>read-only console \u00b7 data from the lake, the registry and the "
         "online stores</footer></body></html>\n";
  return out;
}

std::string Td(const std::string& text, std::string_view cls = {}) {
  return cls.empty() ? "<td>" + EscapeHtml(text) + "</td>"
                     : "<td class=\"" + std::string(cls) + "\">" + EscapeHtml(text) + "</td>";
}
std::string Num(std::int64_t n) {
  return "<td class=\"num\">" + std::to_string(n) + "</td>";
}
std::string Link(const std::string& href, const std::string& text) {
  return "<a href=\"" + EscapeHtml(href) + "\">" + EscapeHtml(text) + "</a>";
}
std::string Short(const std::string& id) {
  return id.substr(0, 12);
}
std::string VersionLink(const std::string& id) {
  return Link("/versions/" + UrlEncode(id), Short(id));
}
std::string Badge(const std::string& status) {
  // The class takes only letters so a strange status cannot break out of the attribute.
  std::string cls;
  for (char c : status) {
    if ((c >= 'a' && c <= 'z') || c == '_') cls += c;
  }
  return "<span class=\"status status-" + cls + "\">" + EscapeHtml(status) + "</span>";
}
std::string Empty(const std::string& message) {
  return "<p class=\"empty\">" + EscapeHtml(message) + "</p>\n";
}
std::string ErrorBox(const base::Status& s) {
  return "<p class=\"error\">" + EscapeHtml(s.ToString()) + "</p>\n";
}
std::uint64_t TotalBytes(const lake::Manifest& m) {
  std::uint64_t b = 0;
  for (const auto& o : m.outputs)
    b += o.bytes;
  return b;
}
std::string Age(const std::string& iso, base::ProcessingTime now) {
  auto t = base::ParseTimestampMicros(iso);
  if (!t.ok()) return iso;
  const std::int64_t seconds = (now.time_since_epoch().count() - *t) / 1'000'000;
  if (seconds < 0) return iso;
  char buf[48];
  if (seconds < 120) {
    std::snprintf(buf, sizeof(buf), "%llds ago", static_cast<long long>(seconds));
  } else if (seconds < 7200) {
    std::snprintf(buf, sizeof(buf), "%lldm ago", static_cast<long long>(seconds / 60));
  } else if (seconds < 172800) {
    std::snprintf(buf, sizeof(buf), "%lldh ago", static_cast<long long>(seconds / 3600));
  } else {
    std::snprintf(buf, sizeof(buf), "%lldd ago", static_cast<long long>(seconds / 86400));
  }
  return buf;
}
std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2fs", s);
  return buf;
}

serve::Reply Html(int status, std::string body) {
  serve::Reply r;
  r.http_status = status;
  r.body = std::move(body);
  r.content_type = kHtml;
  if (status == 404) r.error_kind = "not_found";
  if (status == 401) r.error_kind = "unauthorized";
  return r;
}

// Rows per version as an inline bar chart (loaded and quarantined stacked), oldest left.
std::string VersionChart(const std::vector<lake::Manifest>& history) {
  if (history.empty()) return "";
  std::int64_t max_rows = 1;
  for (const auto& m : history)
    max_rows = std::max(max_rows, m.rows.loaded + m.rows.quarantined);
  const int bar = 28;
  const int gap = 8;
  const int height = 120;
  const int width = static_cast<int>(history.size()) * (bar + gap) + gap;
  std::string svg = "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                    std::to_string(width) + "\" height=\"" + std::to_string(height + 4) +
                    "\" role=\"img\" aria-label=\"rows per version\">";
  for (size_t i = 0; i < history.size(); ++i) {
    const auto& m = history[i];
    const double hl = static_cast<double>(m.rows.loaded) / max_rows * height;
    const double hq = static_cast<double>(m.rows.quarantined) / max_rows * height;
    const int x = gap + static_cast<int>(i) * (bar + gap);
    char rect[256];
    std::snprintf(rect, sizeof(rect),
                  "<rect class=\"loaded\" x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\"/>", x,
                  height - hl, bar, hl);
    svg += "<a href=\"/versions/" + UrlEncode(m.id) + "\"><g><title>" +
           EscapeHtml(Short(m.id) + ": " + std::to_string(m.rows.loaded) + " loaded, " +
                      std::to_string(m.rows.quarantined) + " quarantined") +
           "</title>" + rect;
    std::snprintf(rect, sizeof(rect),
                  "<rect class=\"quarantined\" x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\"/>",
                  x, height - hl - hq, bar, hq);
    svg += std::string(rect) + "</g></a>";
  }
  svg += "</svg>\n";
  return svg;
}

std::string FormatNumber(std::optional<double> v) {
  if (!v) return "";
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%.6g", *v);
  return buf;
}

// A column's histogram as a small inline bar chart; the bins' ranges and counts in tooltips.
std::string HistogramSvg(const quality::ColumnProfile& c) {
  if (c.histogram.empty()) return "";
  std::int64_t max_count = 1;
  for (const auto& b : c.histogram)
    max_count = std::max(max_count, b.count);
  const int bar = 8;
  const int height = 40;
  const int width = static_cast<int>(c.histogram.size()) * (bar + 1);
  std::string svg = "<svg class=\"histogram\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                    std::to_string(width) + "\" height=\"" + std::to_string(height) +
                    "\" role=\"img\" aria-label=\"histogram of " + EscapeHtml(c.name) + "\">";
  for (size_t i = 0; i < c.histogram.size(); ++i) {
    const auto& b = c.histogram[i];
    const double h = static_cast<double>(b.count) / static_cast<double>(max_count) * height;
    char rect[160];
    std::snprintf(rect, sizeof(rect), "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\">",
                  static_cast<int>(i) * (bar + 1), height - h, bar, h);
    svg += std::string(rect) + "<title>" +
           EscapeHtml("[" + FormatNumber(b.lower) + ", " + FormatNumber(b.upper) +
                      "): " + std::to_string(b.count)) +
           "</title></rect>";
  }
  return svg + "</svg>";
}

std::string ProfileSection(const quality::Profile& p) {
  std::string out = "<p>" + std::to_string(p.rows) +
                    " rows profiled.</p><table class=\"profile\"><thead><tr><th>column</th><th>"
                    "type</th><th>count</th><th>nulls</th><th>distinct</th><th>mean</th><th>"
                    "stddev</th><th>min</th><th>max</th><th>distribution</th></tr></thead><tbody>";
  for (const auto& c : p.columns) {
    std::string distribution = HistogramSvg(c);
    if (distribution.empty() && !c.top.empty()) {
      for (size_t i = 0; i < c.top.size() && i < 5; ++i) {
        distribution += (i ? ", " : "") + EscapeHtml(c.top[i].value) + " (" +
                        std::to_string(c.top[i].count) + ")";
      }
    }
    out += "<tr>" + Td(c.name) + Td(std::string(types::LogicalTypeName(c.type))) +
           "<td class=\"num\">" + std::to_string(c.count) + "</td><td class=\"num\">" +
           std::to_string(c.nulls) + "</td><td class=\"num\">" + std::to_string(c.distinct) +
           "</td>" + Td(FormatNumber(c.mean), "num") + Td(FormatNumber(c.stddev), "num") +
           Td(c.min ? FormatNumber(c.min) : c.min_text.value_or("")) +
           Td(c.max ? FormatNumber(c.max) : c.max_text.value_or("")) + "<td>" + distribution +
           "</td></tr>";
  }
  return out + "</tbody></table>\n";
}

std::string FormatValue(const types::Column& c, size_t row) {
  return c.IsValid(row) ? c.ValueToString(row) : "NULL";
}

std::string KindOfDataset(const config::ProjectSpec& p, const std::string& name) {
  if (p.FindSource(name)) return "source";
  if (p.FindTrainingSet(name)) return "training_set";
  return "model";
}

std::vector<std::string> ModelNames(const config::ProjectSpec& p) {
  std::vector<std::string> names = p.models.files;
  for (const auto& c : p.models.configs) {
    if (std::find(names.begin(), names.end(), c.name) == names.end()) names.push_back(c.name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

base::Result<std::unique_ptr<Console>> Console::Open(const config::ProjectSpec& project,
                                                     const lake::Lake& lake,
                                                     const std::filesystem::path& registry_path,
                                                     base::Clock& clock, serve::Metrics& metrics) {
  SLUICE_ASSIGN_OR_RETURN(auto registry, registry::Registry::Open(registry_path));
  warehouse::DuckDb::Options db_options;
  db_options.threads = 1;  // quarantine samples are small reads
  SLUICE_ASSIGN_OR_RETURN(auto db, warehouse::DuckDb::Open(":memory:", db_options));
  std::unique_ptr<Console> c(new Console(project, lake, clock, std::move(registry), std::move(db)));
  auto pipelines = registry::PipelineHistory::Open(registry_path);
  if (pipelines.ok()) {
    c->pipelines_.emplace(std::move(pipelines).value());
  } else {
    c->pipelines_problem_ = pipelines.status().ToString();
  }
  auto models = registry::ModelRegistry::Open(registry_path);
  if (models.ok()) {
    c->models_.emplace(std::move(models).value());
  } else {
    c->models_problem_ = models.status().ToString();
  }
  if (project.online_stores.empty()) {
    c->features_problem_ = "the project declares no online store";
  } else {
    // Like sluice serve, it follows a view that `sluice stream` rebuilt for a changed definition.
    serve::FeatureServerOptions server_options;
    server_options.reload_project = serve::ProjectFilesReloader(project.dir);
    auto server = serve::FeatureServer::Open(project, lake, server_options, clock, metrics);
    if (server.ok()) {
      c->features_ = std::move(server).value();
    } else {
      c->features_problem_ = server.status().ToString();
    }
  }
  return c;
}

Console::Console(const config::ProjectSpec& project, const lake::Lake& lake, base::Clock& clock,
                 registry::Registry registry, warehouse::DuckDb db)
    : project_(project),
      lake_(lake),
      clock_(clock),
      registry_(std::move(registry)),
      db_(std::move(db)) {}

Console::~Console() = default;

serve::Reply Console::Features(std::string_view body) {
  if (features_) return features_->Features(body);
  serve::Reply r;
  r.http_status = 503;
  r.error_kind = "unavailable";
  r.body = serve::ErrorBody(503, "unavailable", "no online look-ups: " + features_problem_);
  return r;
}

serve::Reply Console::Ready() {
  if (features_) return features_->Ready();
  serve::Reply r;
  r.http_status = 200;
  r.body = "{\"ready\":false,\"views\":[]}\n";
  return r;
}

std::string Console::GaugesText() const {
  return features_ ? features_->GaugesText() : "";
}

std::optional<serve::Reply> Console::Get(std::string_view target, bool authorized) {
  const auto q = target.find('?');
  const std::string_view raw_path = target.substr(0, q);
  const auto query = ParseQuery(q == std::string_view::npos ? "" : target.substr(q + 1));
  auto decoded = UrlDecode(raw_path, false);
  if (!decoded) return Html(400, Layout(project_.name, "", "Bad request", Empty("malformed URL")));
  const std::string path = *decoded;

  if (path.starts_with("/assets/")) {
    const std::string_view name = std::string_view(path).substr(8);
    for (const auto& a : Assets()) {
      if (a.path != name) continue;
      serve::Reply r;
      r.body = std::string(a.content);
      r.content_type = name.ends_with(".css") ? kCss : name.ends_with(".svg") ? kSvg : kJs;
      return r;
    }
    return std::nullopt;
  }
  if (path == "/login") {
    return Html(200, Layout(project_.name, "login", "Sign in",
                            "<form id=\"login\" class=\"lookup\"><label>Token <input "
                            "type=\"password\" name=\"token\" autocomplete=\"off\"></label>"
                            "<button type=\"submit\">Sign in</button></form>\n<p>The token is "
                            "the value of the variable named by <code>--token-env</code>; it is "
                            "kept in a cookie of this browser.</p>\n"));
  }
  if (!authorized) {
    return Html(401,
                Layout(project_.name, "", "Sign in needed",
                       "<p>This console needs a token. <a href=\"/login\">Sign in</a>.</p>\n"));
  }

  std::lock_guard lock(mu_);
  auto page = [&](std::string_view id, const std::string& title, const std::string& body) {
    return Html(200, Layout(project_.name, id, title, body));
  };
  auto not_found = [&](const std::string& what) {
    return Html(404, Layout(project_.name, "", "Not found", Empty(what)));
  };
  if (path == "/" || path == "/overview") return page("overview", "Overview", OverviewPage());
  if (path == "/datasets") return page("datasets", "Datasets", DatasetsPage());
  if (path.starts_with("/datasets/")) {
    const std::string name = path.substr(10);
    auto body = DatasetPage(name);
    if (!body) return not_found("no dataset '" + name + "' in the lake");
    return page("datasets", "Dataset " + name, *body);
  }
  if (path.starts_with("/versions/")) {
    const std::string id = path.substr(10);
    auto body = VersionPage(id);
    if (!body) return not_found("no version '" + id + "' in the lake");
    return page("datasets", "Version " + Short(id), *body);
  }
  if (path == "/lineage") return page("lineage", "Lineage", LineagePage());
  if (path == "/views") return page("views", "Feature views", ViewsPage());
  if (path.starts_with("/views/")) {
    const std::string name = path.substr(7);
    auto body = ViewPage(name);
    if (!body) return not_found("no feature view '" + name + "' in the project");
    return page("views", "Feature view " + name, *body);
  }
  if (path == "/pipelines") return page("pipelines", "Pipelines & runs", PipelinesPage());
  if (path == "/runs") {
    const auto t = query.find("target");
    const std::string target_name = t == query.end() ? "" : t->second;
    return page("pipelines", target_name.empty() ? "Runs" : "Runs of " + target_name,
                RunsPage(target_name));
  }
  if (path == "/monitoring") return page("monitoring", "Monitoring", MonitoringPage());
  if (path == "/logs") {
    auto body = LogPage(query);
    if (!body) return not_found("no such step attempt");
    return page("pipelines", "Step log", *body);
  }
  return std::nullopt;
}

// ---- pages ---------------------------------------------------------------------------------

std::string Console::OverviewPage() {
  const auto now = clock_.Now();
  std::string out;
  auto current_cells = [&](const std::string& dataset) {
    auto cur = lake_.Current(dataset);
    if (!cur.ok())
      return "<td colspan=\"3\" class=\"error\">" + EscapeHtml(cur.status().ToString()) + "</td>";
    if (!*cur) return std::string("<td class=\"empty\" colspan=\"3\">no version yet</td>");
    const auto& m = **cur;
    return "<td>" + VersionLink(m.id) + "</td>" + Num(m.rows.loaded) + Td(Age(m.created_at, now));
  };
  auto last_run = [&](const std::string& target) {
    auto runs = registry_.Runs(target, 1);
    if (!runs.ok()) return "<td class=\"error\">" + EscapeHtml(runs.status().ToString()) + "</td>";
    if (runs->empty()) return std::string("<td class=\"empty\">none</td>");
    return "<td>" + Badge(runs->front().status) + " " + EscapeHtml(runs->front().kind) + "</td>";
  };

  out +=
      "<section><h2>Sources</h2><table><thead><tr><th>source</th><th>type</th><th>current "
      "version</th><th>rows</th><th>published</th><th>last run</th></tr></thead><tbody>";
  for (const auto& s : project_.sources) {
    out += "<tr><td>" + Link("/datasets/" + UrlEncode(s.name), s.name) + "</td>" +
           Td(std::string(config::Name(s.type))) + current_cells(s.name) + last_run(s.name) +
           "</tr>";
  }
  out += "</tbody></table></section>\n";

  out += "<section><h2>Models</h2>";
  const auto models = ModelNames(project_);
  if (models.empty()) {
    out += Empty("The project has no SQL models.");
  } else {
    out +=
        "<table><thead><tr><th>model</th><th>current version</th><th>rows</th><th>published"
        "</th><th>last run</th></tr></thead><tbody>";
    for (const auto& m : models) {
      out += "<tr><td>" + Link("/datasets/" + UrlEncode(m), m) + "</td>" + current_cells(m) +
             last_run(m) + "</tr>";
    }
    out += "</tbody></table>";
  }
  out += "</section>\n";

  out += "<section><h2>Registered models</h2>";
  if (!models_) {
    out += "<p class=\"error\">" + EscapeHtml(models_problem_) + "</p>";
  } else if (auto current = models_->Current(); !current.ok()) {
    out += ErrorBox(current.status());
  } else if (current->empty()) {
    out += Empty("Nothing recorded yet: no model is registered (sluice model register).");
  } else {
    out +=
        "<table><thead><tr><th>model</th><th>version</th><th>trained on</th><th>training set "
        "version</th><th>artifact</th><th>registered</th></tr></thead><tbody>";
    for (const auto& m : *current) {
      out += "<tr>" + Td(m.name) + Num(m.version) + "<td>" +
             Link("/datasets/" + UrlEncode(m.training_set), m.training_set) + "</td><td>" +
             VersionLink(m.training_set_version) + "</td>" + Td(m.artifact_path) +
             Td(Age(m.created_at, now)) + "</tr>";
    }
    out += "</tbody></table>";
  }
  out += "</section>\n";

  out +=
      "<section><h2>Feature views</h2><table><thead><tr><th>view</th><th>entity</th><th>"
      "source</th><th>features</th><th>online freshness</th><th>last run</th></tr></thead>"
      "<tbody>";
  for (const auto& v : project_.feature_views) {
    out += "<tr><td>" + Link("/views/" + UrlEncode(v.name), v.name) + "</td>" + Td(v.entity) +
           "<td>" + Link("/datasets/" + UrlEncode(v.source), v.source) + "</td>" +
           Num(static_cast<std::int64_t>(v.aggregations.size() + v.derived.size())) +
           "<td data-fresh-view=\"" + EscapeHtml(v.name) + "\">\u2026</td>" + last_run(v.name) +
           "</tr>";
  }
  out += "</tbody></table></section>\n";

  out +=
      "<section><h2>Training sets</h2><table><thead><tr><th>training set</th><th>current "
      "version</th><th>rows</th><th>published</th><th>last run</th></tr></thead><tbody>";
  for (const auto& t : project_.training_sets) {
    out += "<tr><td>" + Link("/datasets/" + UrlEncode(t.name), t.name) + "</td>" +
           current_cells(t.name) + last_run(t.name) + "</tr>";
  }
  out += "</tbody></table></section>\n";

  out += "<section><h2>Online stores</h2>";
  if (project_.online_stores.empty()) {
    out += Empty("The project declares no online store.");
  } else {
    out += "<table><thead><tr><th>store</th><th>type</th><th>status</th></tr></thead><tbody>";
    for (const auto& s : project_.online_stores) {
      out += "<tr>" + Td(s.name) +
             Td(s.type == config::OnlineStoreType::kRocksdb ? "rocksdb" : "redis") +
             "<td data-store-status=\"" + EscapeHtml(s.name) + "\">\u2026</td></tr>";
    }
    out += "</tbody></table>";
    if (!features_) out += "<p class=\"error\">" + EscapeHtml(features_problem_) + "</p>";
  }
  out += "</section>\n";

  out += "<section><h2>Pipelines</h2>";
  if (project_.pipelines.empty()) {
    out += Empty("The project declares no pipeline.");
  } else {
    out +=
        "<table><thead><tr><th>pipeline</th><th>schedule</th><th>steps</th><th>last run</th>"
        "</tr></thead><tbody>";
    for (const auto& p : project_.pipelines) {
      std::string last = "<td class=\"empty\">none</td>";
      if (pipelines_) {
        auto runs = pipelines_->Runs(p.name, 1);
        if (!runs.ok()) {
          last = "<td class=\"error\">" + EscapeHtml(runs.status().ToString()) + "</td>";
        } else if (!runs->empty()) {
          last = "<td>" + Badge(runs->front().status) + " " +
                 EscapeHtml(Age(runs->front().started_at, now)) + "</td>";
        }
      }
      out += "<tr><td>" + Link("/pipelines#" + UrlEncode(p.name), p.name) + "</td>" +
             Td(p.schedule.value_or("manual")) + Num(static_cast<std::int64_t>(p.steps.size())) +
             last + "</tr>";
    }
    out += "</tbody></table>";
  }
  out += "</section>\n";
  return out;
}

std::string Console::DatasetsPage() {
  auto datasets = lake_.Datasets();
  if (!datasets.ok()) return ErrorBox(datasets.status());
  if (datasets->empty()) {
    return Empty("Nothing recorded yet: the lake has no dataset versions (run sluice ingest).");
  }
  const auto now = clock_.Now();
  std::string out =
      "<table><thead><tr><th>dataset</th><th>kind</th><th>versions</th><th>current</th><th>rows"
      "</th><th>quarantined</th><th>bytes</th><th>published</th></tr></thead><tbody>";
  for (const auto& d : *datasets) {
    auto history = lake_.History(d);
    if (!history.ok() || history->empty()) {
      out += "<tr>" + Td(d) + "<td colspan=\"7\" class=\"error\">" +
             EscapeHtml(history.ok() ? "no versions" : history.status().ToString()) + "</td></tr>";
      continue;
    }
    const auto& m = history->back();
    out += "<tr><td>" + Link("/datasets/" + UrlEncode(d), d) + "</td>" + Td(m.kind) +
           Num(static_cast<std::int64_t>(history->size())) + "<td>" + VersionLink(m.id) + "</td>" +
           Num(m.rows.loaded) + Num(m.rows.quarantined) +
           Td(FormatBytes(static_cast<double>(TotalBytes(m))), "num") + Td(Age(m.created_at, now)) +
           "</tr>";
  }
  out += "</tbody></table>\n";
  return out;
}

std::optional<std::string> Console::DatasetPage(const std::string& name) {
  auto history = lake_.History(name);
  std::string out;
  if (!history.ok()) return ErrorBox(history.status());
  if (history->empty()) {
    const bool declared = project_.FindSource(name) || project_.FindTrainingSet(name) ||
                          std::ranges::count(ModelNames(project_), name) > 0;
    if (!declared) return std::nullopt;
    out += Empty("Nothing recorded yet: " + KindOfDataset(project_, name) + " " + name +
                 " has no version in the lake.");
  } else {
    out += "<section><h2>Versions over time</h2>" + VersionChart(*history) +
           "<p class=\"legend\"><span class=\"key loaded\"></span> loaded <span class=\"key "
           "quarantined\"></span> quarantined</p>";
    out +=
        "<table><thead><tr><th>version</th><th>published</th><th>read</th><th>loaded</th>"
        "<th>quarantined</th><th>bytes</th><th>definition</th></tr></thead><tbody>";
    for (auto it = history->rbegin(); it != history->rend(); ++it) {
      const auto& m = *it;
      out += "<tr" + std::string(it == history->rbegin() ? " class=\"current\"" : "") + "><td>" +
             VersionLink(m.id) + "</td>" + Td(m.created_at) + Num(m.rows.read) +
             Num(m.rows.loaded) + Num(m.rows.quarantined) +
             Td(FormatBytes(static_cast<double>(TotalBytes(m))), "num") +
             Td(Short(m.definition_hash), "mono") + "</tr>";
    }
    out += "</tbody></table></section>\n";
  }
  out += "<section><h2>Runs</h2>" + RunsPage(name) + "</section>\n";
  return out;
}

std::optional<std::string> Console::VersionPage(const std::string& id) {
  auto found = lake_.FindVersion(id);
  if (!found.ok()) {
    if (found.status().code() == base::StatusCode::kNotFound ||
        found.status().code() == base::StatusCode::kInvalidArgument) {
      return std::nullopt;
    }
    return ErrorBox(found.status());
  }
  const lake::Manifest& m = *found;
  std::string out =
      "<dl class=\"facts\"><dt>dataset</dt><dd>" +
      Link("/datasets/" + UrlEncode(m.dataset), m.dataset) + "</dd><dt>kind</dt><dd>" +
      EscapeHtml(m.kind) + "</dd><dt>id</dt><dd class=\"mono\">" + EscapeHtml(m.id) +
      "</dd><dt>published</dt><dd>" + EscapeHtml(m.created_at) + "</dd><dt>rows</dt><dd>" +
      std::to_string(m.rows.read) + " read, " + std::to_string(m.rows.loaded) + " loaded, " +
      std::to_string(m.rows.quarantined) + " quarantined</dd></dl>\n";
  if (!m.parents.empty()) {
    out += "<section><h2>Derived from</h2><ul>";
    for (const auto& p : m.parents) {
      auto parent = lake_.FindVersion(p);
      out +=
          "<li>" + VersionLink(p) +
          (parent.ok() ? " " + EscapeHtml(parent->dataset) + " (" + EscapeHtml(parent->kind) + ")"
                       : std::string()) +
          "</li>";
    }
    out += "</ul></section>\n";
  }
  if (!m.inputs.empty()) {
    out +=
        "<section><h2>Input files</h2><table><thead><tr><th>path</th><th>sha256</th><th>bytes"
        "</th></tr></thead><tbody>";
    for (const auto& i : m.inputs) {
      out += "<tr>" + Td(i.path) + Td(Short(i.sha256), "mono") +
             Td(FormatBytes(static_cast<double>(i.bytes)), "num") + "</tr>";
    }
    out += "</tbody></table></section>\n";
  }
  out +=
      "<section><h2>Schema</h2><table><thead><tr><th>column</th><th>type</th><th>nullable</th>"
      "</tr></thead><tbody>";
  for (const auto& f : m.schema.fields()) {
    out += "<tr>" + Td(f.name) + Td(std::string(types::LogicalTypeName(f.type))) +
           Td(f.nullable ? "yes" : "no") + "</tr>";
  }
  out += "</tbody></table></section>\n";

  // Sample quarantined rows with their reasons, read from the version's quarantine files.
  out += "<section><h2>Quarantined rows</h2>";
  bool any_quarantine = false;
  for (const auto& o : m.outputs) {
    if (o.name.find("quarantine") == std::string::npos) continue;
    any_quarantine = true;
    auto rows = db_.Query("SELECT * FROM read_parquet(" +
                          warehouse::QuoteLiteral(lake_.ObjectPath(o.sha256).string()) +
                          ") LIMIT " + std::to_string(kQuarantineSampleRows));
    if (!rows.ok()) {
      out += ErrorBox(rows.status());
      continue;
    }
    out += "<p>" + EscapeHtml(o.name) + ": " + std::to_string(o.rows) + " rows (first " +
           std::to_string(std::min<std::int64_t>(o.rows, kQuarantineSampleRows)) +
           " shown)</p><table class=\"quarantine\"><thead><tr>";
    for (const auto& f : rows->schema().fields())
      out += "<th>" + EscapeHtml(f.name) + "</th>";
    out += "</tr></thead><tbody>";
    for (size_t r = 0; r < rows->num_rows(); ++r) {
      out += "<tr>";
      for (size_t c = 0; c < rows->num_columns(); ++c)
        out += Td(FormatValue(rows->column(c), r));
      out += "</tr>";
    }
    out += "</tbody></table>";
  }
  if (!any_quarantine) out += Empty("No row of this version was quarantined.");
  out += "</section>\n";

  out += "<section><h2>Profile</h2>";
  auto profile = quality::ReadStoredProfile(lake_, m);
  if (!profile.ok()) {
    out += ErrorBox(profile.status());
  } else if (!*profile) {
    out += Empty("Nothing recorded yet: no profile is stored for this version (sluice profile " +
                 Short(m.id) + " computes one).");
  } else {
    out += ProfileSection(**profile);
  }
  out += "</section>\n";

  auto edges = registry_.Lineage(m.id);
  out += "<section><h2>Lineage records</h2>";
  if (!edges.ok()) {
    out += ErrorBox(edges.status());
  } else if (edges->empty()) {
    out += Empty("Nothing recorded yet: the registry has no lineage edge for this version.");
  } else {
    out += "<table><thead><tr><th>from</th><th>to</th><th>run</th></tr></thead><tbody>";
    for (const auto& e : *edges) {
      auto cell = [&](const std::string& node) {
        return node.find(':') == std::string::npos ? "<td>" + VersionLink(node) + "</td>"
                                                   : Td(node, "mono");
      };
      out += "<tr>" + cell(e.from) + cell(e.to) + Num(e.run_id) + "</tr>";
    }
    out += "</tbody></table>";
  }
  out += "</section>\n";

  out += "<section><h2>Manifest</h2><pre class=\"manifest\">" + EscapeHtml(lake::ToPrettyJson(m)) +
         "</pre></section>\n";
  return out;
}

std::string Console::LineagePage() {
  LineageGraph g;
  auto version_of = [&](const std::string& dataset) -> std::string {
    auto cur = lake_.Current(dataset);
    return cur.ok() && *cur ? Short((*cur)->id) : "no version";
  };
  auto dataset_href = [](const std::string& d) { return "/datasets/" + UrlEncode(d); };
  // Raw files first, from the current versions' manifests: what each source was built from.
  for (const auto& s : project_.sources) {
    g.AddNode({"source:" + s.name, s.name, version_of(s.name), "source", dataset_href(s.name), ""});
    auto cur = lake_.Current(s.name);
    if (cur.ok() && *cur) {
      for (const auto& in : (*cur)->inputs) {
        const std::string id = "file:" + in.path;
        g.AddNode({id, in.path, Short(in.sha256), "file", "", ""});
        g.AddEdge(id, "source:" + s.name);
      }
    }
  }
  // Models: edges from the datasets their current version was derived from.
  std::map<std::string, std::string> node_of_dataset;
  for (const auto& s : project_.sources)
    node_of_dataset[s.name] = "source:" + s.name;
  for (const auto& m : ModelNames(project_)) {
    g.AddNode({"model:" + m, m, version_of(m), "model", dataset_href(m), ""});
    node_of_dataset[m] = "model:" + m;
  }
  for (const auto& m : ModelNames(project_)) {
    auto cur = lake_.Current(m);
    if (!cur.ok() || !*cur) continue;
    for (const auto& p : (*cur)->parents) {
      auto parent = lake_.FindVersion(p);
      if (parent.ok() && node_of_dataset.count(parent->dataset)) {
        g.AddEdge(node_of_dataset[parent->dataset], "model:" + m);
      }
    }
  }
  for (const auto& v : project_.feature_views) {
    g.AddNode({"view:" + v.name, v.name, "", "view", "/views/" + UrlEncode(v.name), ""});
    if (node_of_dataset.count(v.source)) g.AddEdge(node_of_dataset[v.source], "view:" + v.name);
  }
  for (const auto& t : project_.training_sets) {
    g.AddNode({"training_set:" + t.name, t.name, version_of(t.name), "training_set",
               dataset_href(t.name), ""});
    if (t.spine && node_of_dataset.count(*t.spine)) {
      g.AddEdge(node_of_dataset[*t.spine], "training_set:" + t.name);
    }
    for (const auto& f : t.features) {
      const std::string view = f.substr(0, f.find(':'));
      g.AddEdge("view:" + view, "training_set:" + t.name);
    }
  }
  for (const auto& s : project_.online_stores) {
    g.AddNode({"store:" + s.name, s.name, "", "store", "/views", ""});
  }
  if (!project_.online_stores.empty()) {
    for (const auto& v : project_.feature_views)
      g.AddEdge("view:" + v.name, "store:" + project_.online_stores.front().name);
  }
  for (const auto& svc : project_.feature_services) {
    for (const auto& f : svc.features) {
      g.AddEdge("view:" + f.substr(0, f.find(':')), "store:" + svc.online_store);
    }
  }
  std::string out =
      "<p>From raw files to training sets and online stores, with each dataset's current "
      "version. Click a node to open it; hover to follow its edges.</p>\n<div class=\"graph\">" +
      g.RenderSvg() + "</div>\n";
  return out;
}

std::string Console::ViewsPage() {
  if (project_.feature_views.empty()) return Empty("The project declares no feature view.");
  std::string out =
      "<table><thead><tr><th>view</th><th>entity</th><th>source</th><th>aggregations</th><th>"
      "derived</th><th>transforms</th><th>ttl</th><th>online freshness</th></tr></thead><tbody>";
  for (const auto& v : project_.feature_views) {
    out += "<tr><td>" + Link("/views/" + UrlEncode(v.name), v.name) + "</td>" + Td(v.entity) +
           "<td>" + Link("/datasets/" + UrlEncode(v.source), v.source) + "</td>" +
           Num(static_cast<std::int64_t>(v.aggregations.size())) +
           Num(static_cast<std::int64_t>(v.derived.size())) +
           Num(static_cast<std::int64_t>(v.transforms.size())) +
           Td(v.ttl ? base::FormatDuration(*v.ttl) : "none") + "<td data-fresh-view=\"" +
           EscapeHtml(v.name) + "\">\u2026</td></tr>";
  }
  out += "</tbody></table>\n";
  return out;
}

std::optional<std::string> Console::ViewPage(const std::string& name) {
  const auto* v = project_.FindFeatureView(name);
  if (v == nullptr) return std::nullopt;
  std::string out = "<dl class=\"facts\"><dt>entity</dt><dd>" + EscapeHtml(v->entity) +
                    "</dd><dt>source</dt><dd>" +
                    Link("/datasets/" + UrlEncode(v->source), v->source) + "</dd>";
  if (v->description) out += "<dt>description</dt><dd>" + EscapeHtml(*v->description) + "</dd>";
  if (v->filter) out += "<dt>filter</dt><dd><code>" + EscapeHtml(*v->filter) + "</code></dd>";
  out += "<dt>ttl</dt><dd>" + EscapeHtml(v->ttl ? base::FormatDuration(*v->ttl) : "none") +
         "</dd></dl>\n";
  if (!v->columns.empty()) {
    out +=
        "<section><h2>Row columns (SQL)</h2><table><thead><tr><th>column</th><th>expression"
        "</th></tr></thead><tbody>";
    for (const auto& c : v->columns)
      out += "<tr>" + Td(c.name) + "<td><code>" + EscapeHtml(c.expr) + "</code></td></tr>";
    out += "</tbody></table></section>\n";
  }
  out +=
      "<section><h2>Aggregations</h2><table><thead><tr><th>feature</th><th>function</th><th>"
      "column</th><th>window</th><th>default</th></tr></thead><tbody>";
  for (const auto& a : v->aggregations) {
    const auto d = v->defaults.find(a.name);
    out += "<tr>" + Td(a.name) + Td(std::string(config::Name(a.function))) +
           Td(a.column.value_or("")) + Td(a.window ? base::FormatDuration(*a.window) : "lifetime") +
           Td(d == v->defaults.end() ? "" : d->second) + "</tr>";
  }
  out += "</tbody></table></section>\n";
  if (!v->derived.empty()) {
    out +=
        "<section><h2>Derived features (SQL)</h2><table><thead><tr><th>feature</th><th>"
        "expression</th></tr></thead><tbody>";
    for (const auto& c : v->derived)
      out += "<tr>" + Td(c.name) + "<td><code>" + EscapeHtml(c.expr) + "</code></td></tr>";
    out += "</tbody></table></section>\n";
  }
  if (!v->transforms.empty()) {
    out +=
        "<section><h2>Transforms</h2><table><thead><tr><th>feature</th><th>transform</th><th>"
        "fitted on</th></tr></thead><tbody>";
    for (const auto& t : v->transforms) {
      out += "<tr>" + Td(t.feature) + Td(std::string(config::Name(t.type))) +
             Td(t.fit_on.value_or("")) + "</tr>";
    }
    out += "</tbody></table></section>\n";
  }
  out += "<section><h2>Online freshness</h2><div class=\"freshness\" data-view=\"" +
         EscapeHtml(v->name) + "\">\u2026</div></section>\n";

  // The look-up form: the page's script posts it to this console's /v1/features.
  std::vector<std::string> keys;
  if (const auto* e = project_.FindEntity(v->entity)) keys = e->keys;
  out += "<section><h2>Look up</h2><form class=\"lookup\" id=\"lookup\" data-view=\"" +
         EscapeHtml(v->name) + "\">";
  for (const auto& k : keys) {
    std::string type = "auto";
    if (const auto* src = project_.FindSource(v->source)) {
      if (const auto* f = src->FindColumn(k)) type = std::string(types::LogicalTypeName(f->type));
    }
    out += "<label>" + EscapeHtml(k) + " <input name=\"" + EscapeHtml(k) + "\" data-key=\"" +
           EscapeHtml(k) + "\" data-type=\"" + EscapeHtml(type) + "\" required></label>";
  }
  out +=
      "<label>at <input name=\"at\" placeholder=\"now, or 2024-04-01T00:00:00Z\"></label>"
      "<button type=\"submit\">Look up</button></form><div id=\"lookup-result\"></div>"
      "</section>\n";
  return out;
}

std::string Console::PipelinesPage() {
  std::string out;
  auto latest_status = [&](const std::string& target) -> std::string {
    auto runs = registry_.Runs(target, 1);
    return runs.ok() && !runs->empty() ? runs->front().status : "";
  };
  auto duration = [](const std::string& from, const std::string& to) -> std::string {
    auto a = base::ParseTimestampMicros(from);
    auto b = base::ParseTimestampMicros(to);
    if (!a.ok() || !b.ok()) return "";
    return Seconds(static_cast<double>(*b - *a) / 1e6);
  };
  if (project_.pipelines.empty()) out += Empty("The project declares no pipeline.");
  if (!pipelines_) out += "<p class=\"error\">" + EscapeHtml(pipelines_problem_) + "</p>";
  for (const auto& p : project_.pipelines) {
    out += "<section id=\"" + EscapeHtml(p.name) + "\"><h2>Pipeline " + EscapeHtml(p.name) +
           "</h2><p>schedule " + EscapeHtml(p.schedule.value_or("manual")) + ", retries " +
           std::to_string(p.retries) + "</p>";
    std::vector<registry::PipelineRun> runs;
    std::vector<registry::StepAttempt> attempts;  // of the newest run
    if (pipelines_) {
      auto r = pipelines_->Runs(p.name, 20);
      if (r.ok()) runs = std::move(r).value();
      if (!runs.empty()) {
        auto a = pipelines_->Attempts(runs.front().id);
        if (a.ok()) attempts = std::move(a).value();
      }
    }
    // Each step coloured by its newest attempt in the newest pipeline run; without pipeline
    // runs, by the newest run of what the step runs (sluice ingest/build/... by hand).
    LineageGraph g;
    for (const auto& s : p.steps) {
      std::string status;
      for (const auto& a : attempts) {
        if (a.step == s.name) status = a.status;  // attempts are in recorded order
      }
      if (status.empty() && runs.empty()) {
        std::vector<std::string> targets = s.sources;
        if (s.training_set) targets.push_back(*s.training_set);
        targets.insert(targets.end(), s.feature_views.begin(), s.feature_views.end());
        if (s.run == config::StepKind::kBuild || s.run == config::StepKind::kTest) {
          targets = s.models.empty() ? ModelNames(project_) : s.models;
        }
        for (const auto& t : targets) {
          const std::string st = latest_status(t);
          if (st.empty()) continue;
          if (status.empty() || st == "failed" || (st == "running" && status != "failed")) {
            status = st;
          }
        }
      }
      g.AddNode({"step:" + s.name, s.name, std::string(config::Name(s.run)), "step",
                 "#" + UrlEncode(p.name) + "-attempts", status.empty() ? "none" : status});
    }
    for (const auto& s : p.steps) {
      for (const auto& d : s.depends_on)
        g.AddEdge("step:" + d, "step:" + s.name);
    }
    out += "<div class=\"graph\">" + g.RenderSvg() + "</div>";
    if (runs.empty()) {
      out += Empty("Nothing recorded yet: no run of this pipeline (sluice run " + p.name + ").");
      out += "</section>\n";
      continue;
    }
    out +=
        "<h3>Runs</h3><table class=\"runs\"><thead><tr><th>run</th><th>status</th><th>trigger"
        "</th><th>started</th><th>duration</th><th>interval</th><th>error</th></tr></thead>"
        "<tbody>";
    for (const auto& r : runs) {
      out += "<tr>" + Num(r.id) + "<td>" + Badge(r.status) + "</td>" + Td(r.trigger) +
             Td(r.started_at) + Td(duration(r.started_at, r.finished_at), "num") +
             Td(r.interval_start.empty() ? "" : r.interval_start + " .. " + r.interval_end) +
             Td(r.error, "error-text") + "</tr>";
    }
    out += "</tbody></table><h3 id=\"" + EscapeHtml(p.name) + "-attempts\">Attempts of run " +
           std::to_string(runs.front().id) +
           "</h3><table><thead><tr><th>step</th><th>attempt</th><th>status</th><th>started</th>"
           "<th>duration</th><th>exit code</th><th>log</th><th>error</th></tr></thead><tbody>";
    for (const auto& a : attempts) {
      const std::string log = a.log_path.empty() ? ""
                                                 : Link("/logs?run=" + std::to_string(a.run_id) +
                                                            "&step=" + UrlEncode(a.step) +
                                                            "&attempt=" + std::to_string(a.attempt),
                                                        "log");
      out += "<tr>" + Td(a.step) + Num(a.attempt) + "<td>" + Badge(a.status) + "</td>" +
             Td(a.started_at) + Td(duration(a.started_at, a.finished_at), "num") +
             Td(a.exit_code ? std::to_string(*a.exit_code) : "", "num") + "<td>" + log + "</td>" +
             Td(a.error, "error-text") + "</tr>";
    }
    out += "</tbody></table></section>\n";
  }
  out += "<section><h2>Recent runs</h2>" + RunsPage("") + "</section>\n";
  return out;
}

std::optional<std::string> Console::LogPage(const std::map<std::string, std::string>& query) {
  if (!pipelines_) return std::nullopt;
  auto get = [&](const char* k) {
    auto it = query.find(k);
    return it == query.end() ? std::string() : it->second;
  };
  std::int64_t run_id = 0;
  const std::string run_text = get("run");
  const auto [end_ptr, ec] =
      std::from_chars(run_text.data(), run_text.data() + run_text.size(), run_id);
  if (ec != std::errc() || end_ptr != run_text.data() + run_text.size()) return std::nullopt;
  auto attempts = pipelines_->Attempts(run_id);
  if (!attempts.ok()) return ErrorBox(attempts.status());
  for (const auto& a : *attempts) {
    if (a.step != get("step") || std::to_string(a.attempt) != get("attempt")) continue;
    // Only the log file the registry names for this attempt is read, and only its end.
    constexpr std::uintmax_t kTail = 64 * 1024;
    std::string text;
    std::error_code size_error;
    const std::uintmax_t size = std::filesystem::file_size(a.log_path, size_error);
    if (size_error) return Empty("The log file " + a.log_path + " is gone.");
    std::FILE* f = std::fopen(a.log_path.c_str(), "rb");
    if (f == nullptr) return Empty("The log file " + a.log_path + " cannot be read.");
    const std::uintmax_t from = size > kTail ? size - kTail : 0;
    std::fseek(f, static_cast<long>(from), SEEK_SET);
    text.resize(static_cast<size_t>(size - from));
    text.resize(std::fread(text.data(), 1, text.size(), f));
    std::fclose(f);
    return "<p>run " + std::to_string(run_id) + ", step " + EscapeHtml(a.step) + ", attempt " +
           std::to_string(a.attempt) + " " + Badge(a.status) + " \u00b7 " + EscapeHtml(a.log_path) +
           (from > 0 ? " (last 64 KiB)" : "") + "</p><pre class=\"manifest\">" + EscapeHtml(text) +
           "</pre>\n";
  }
  return std::nullopt;
}

std::string Console::RunsPage(const std::string& target) {
  auto runs = registry_.Runs(target, kRunsShown);
  if (!runs.ok()) return ErrorBox(runs.status());
  if (runs->empty()) {
    return Empty(target.empty() ? "Nothing recorded yet: the registry has no runs."
                                : "Nothing recorded yet: no run of " + target + ".");
  }
  std::string out =
      "<table class=\"runs\"><thead><tr><th>run</th><th>kind</th><th>target</th><th>status</th>"
      "<th>started</th><th>duration</th><th>read</th><th>loaded</th><th>quarantined</th><th>"
      "output</th><th>error</th></tr></thead><tbody>";
  for (const auto& r : *runs) {
    out += "<tr>" + Num(r.id) + Td(r.kind) + "<td>" +
           Link("/runs?target=" + UrlEncode(r.target), r.target) + "</td><td>" + Badge(r.status) +
           "</td>" + Td(r.started_at) + Td(Seconds(r.duration_seconds), "num") + Num(r.rows_read) +
           Num(r.rows_loaded) + Num(r.rows_quarantined) + "<td>" +
           (r.output_version.empty() ? "" : VersionLink(r.output_version)) + "</td>" +
           Td(r.error, "error-text") + "</tr>";
  }
  out += "</tbody></table>\n";
  return out;
}

std::string Console::MonitoringPage() {
  std::string out;
  out +=
      "<section><h2>Freshness</h2><p>Per view: the newest event behind the online values and "
      "the view's TTL.</p><table><thead><tr><th>view</th><th>ttl</th><th>online freshness"
      "</th></tr></thead><tbody>";
  for (const auto& v : project_.feature_views) {
    out += "<tr><td>" + Link("/views/" + UrlEncode(v.name), v.name) + "</td>" +
           Td(v.ttl ? base::FormatDuration(*v.ttl) : "none") + "<td data-fresh-view=\"" +
           EscapeHtml(v.name) + "\">\u2026</td></tr>";
  }
  out += "</tbody></table></section>\n";
  auto alerts = registry_.Alerts("", kRunsShown);
  out += "<section><h2>Monitors</h2>";
  if (project_.monitoring.monitors.empty()) {
    out += Empty("The project declares no monitor (monitoring.monitors in sluice.yaml).");
  } else {
    out +=
        "<table><thead><tr><th>monitor</th><th>type</th><th>dataset</th><th>watches</th><th>"
        "newest alert</th></tr></thead><tbody>";
    for (const auto& mon : project_.monitoring.monitors) {
      std::string newest = "<td class=\"empty\">none</td>";
      if (alerts.ok()) {
        for (const auto& a : *alerts) {
          if (a.monitor != mon.name) continue;
          newest = "<td>" + Badge(a.severity) + " " + EscapeHtml(a.last_raised_at) + "</td>";
          break;
        }
      }
      const std::string watches =
          mon.type == config::MonitorType::kDrift
              ? "drift against " + mon.reference.value_or("")
              : mon.metric.value_or("") + (mon.column ? " of " + *mon.column : "");
      out += "<tr>" + Td(mon.name) + Td(std::string(config::Name(mon.type))) + "<td>" +
             Link("/datasets/" + UrlEncode(mon.dataset), mon.dataset) + "</td>" + Td(watches) +
             newest + "</tr>";
    }
    out += "</tbody></table>";
  }
  out += "</section>\n<section><h2>Alerts and drift</h2>";
  if (!alerts.ok()) {
    out += ErrorBox(alerts.status());
  } else if (alerts->empty()) {
    out += Empty(
        "Nothing recorded yet: no alert has been raised (sluice monitor runs the "
        "monitors; drift results are kept as alerts).");
  } else {
    out +=
        "<table class=\"alerts\"><thead><tr><th>last raised</th><th>monitor</th><th>severity"
        "</th><th>dataset</th><th>version</th><th>message</th><th>seen</th><th>delivery</th>"
        "<th>details</th></tr></thead><tbody>";
    for (const auto& a : *alerts) {
      out += "<tr>" + Td(a.last_raised_at) + Td(a.monitor) + "<td>" + Badge(a.severity) +
             "</td><td>" + Link("/datasets/" + UrlEncode(a.dataset), a.dataset) + "</td><td>" +
             (a.version.empty() ? "" : VersionLink(a.version)) + "</td>" + Td(a.message) +
             "<td class=\"num\">" + std::to_string(a.occurrences) + "</td>" + Td(a.delivery) +
             "<td><details><summary>JSON</summary><pre>" + EscapeHtml(a.details) +
             "</pre></details></td></tr>";
    }
    out += "</tbody></table>";
  }
  out += "</section>\n";
  auto failed = registry_.Runs("", kRunsShown);
  out += "<section><h2>Failed runs</h2>";
  if (failed.ok()) {
    std::string rows;
    for (const auto& r : *failed) {
      if (r.status != "failed") continue;
      rows += "<tr>" + Num(r.id) + Td(r.kind) + Td(r.target) + Td(r.started_at) +
              Td(r.error, "error-text") + "</tr>";
    }
    out += rows.empty()
               ? Empty("No failed run among the newest " + std::to_string(kRunsShown) + " runs.")
               : "<table><thead><tr><th>run</th><th>kind</th><th>target</th><th>started"
                 "</th><th>error</th></tr></thead><tbody>" +
                     rows + "</tbody></table>";
  } else {
    out += ErrorBox(failed.status());
  }
  out += "</section>\n";
  return out;
}

}  // namespace sluice::console
