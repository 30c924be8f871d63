#include "quality/html_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "base/html_text.h"
#include "lake/atomic_file.h"

namespace sluice::quality {
namespace {

std::string Num(std::optional<double> v, const char* format = "%.4g") {
  if (!v || !std::isfinite(*v)) return "&ndash;";
  char buf[40];
  std::snprintf(buf, sizeof buf, format, *v);
  return buf;
}

constexpr const char* kStyle = R"(
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1b1f24;background:#fff}
h1{font-size:20px;margin:0 0 4px}
.sub{color:#57606a;margin:0 0 16px}
.verdict{display:inline-block;padding:6px 12px;border-radius:6px;font-weight:600;margin-bottom:16px}
.verdict.drift{background:#ffebe9;color:#a40e26}.verdict.ok{background:#dafbe1;color:#116329}
table{border-collapse:collapse;margin-bottom:24px}
th,td{border-bottom:1px solid #d0d7de;padding:6px 10px;text-align:right;font-variant-numeric:tabular-nums}
th:first-child,td:first-child,td.text{text-align:left}
tr.drifted td{background:#fff5f5}tr.drifted td.flag{color:#a40e26;font-weight:600}
tr.ok td.flag{color:#116329}tr.skipped td{color:#57606a}
.charts{display:flex;flex-wrap:wrap;gap:16px}
.chart{border:1px solid #d0d7de;border-radius:6px;padding:8px}
.chart h2{font-size:14px;margin:0 0 4px}
.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px}
)";

std::string Histogram(const ColumnDrift& c) {
  const size_t bins = c.reference_counts.size();
  if (bins == 0) return "";
  double rn = 0, cn = 0;
  for (auto v : c.reference_counts)
    rn += static_cast<double>(v);
  for (auto v : c.current_counts)
    cn += static_cast<double>(v);
  std::vector<double> rs(bins), cs(bins);
  double top = 0;
  for (size_t i = 0; i < bins; ++i) {
    rs[i] = rn > 0 ? static_cast<double>(c.reference_counts[i]) / rn : 0;
    cs[i] = cn > 0 ? static_cast<double>(c.current_counts[i]) / cn : 0;
    top = std::max({top, rs[i], cs[i]});
  }
  if (top <= 0) top = 1;
  constexpr double kW = 420, kH = 160, kPad = 24;
  const double bw = (kW - 2 * kPad) / static_cast<double>(bins);
  std::string svg =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"420\" height=\"190\" "
      "role=\"img\" aria-label=\"" +
      base::EscapeHtml(c.name) + " histogram\">";
  char buf[256];
  for (size_t i = 0; i < bins; ++i) {
    const double x = kPad + bw * static_cast<double>(i);
    const double rh = rs[i] / top * (kH - kPad), ch = cs[i] / top * (kH - kPad);
    std::snprintf(buf, sizeof buf,
                  "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#0969da\" "
                  "fill-opacity=\"0.5\"/>",
                  x, kH - rh, std::max(bw - 1, 0.5), rh);
    svg += buf;
    std::snprintf(buf, sizeof buf,
                  "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#fb8500\" "
                  "fill-opacity=\"0.5\"/>",
                  x, kH - ch, std::max(bw - 1, 0.5), ch);
    svg += buf;
  }
  std::snprintf(buf, sizeof buf,
                "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#57606a\"/>", kPad,
                kH, kW - kPad, kH);
  svg += buf;
  auto label = [&](double x, const std::string& text, const char* anchor) {
    std::snprintf(buf, sizeof buf,
                  "<text x=\"%.1f\" y=\"%.0f\" font-size=\"11\" fill=\"#57606a\" "
                  "text-anchor=\"%s\">",
                  x, kH + 16, anchor);
    svg += buf + base::EscapeHtml(text) + "</text>";
  };
  if (!c.edges.empty()) {
    label(kPad, Num(c.edges.front()), "start");
    label(kW - kPad, Num(c.edges.back()), "end");
  } else if (!c.categories.empty()) {
    label(kPad, c.categories.front().substr(0, 20), "start");
    if (c.categories.size() > 1) label(kW - kPad, c.categories.back().substr(0, 20), "end");
  }
  svg += "</svg>";
  return svg;
}

}  // namespace

std::string DriftHtml(const DriftReport& r) {
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>sluice drift: " +
      base::EscapeHtml(r.current) + " vs " + base::EscapeHtml(r.reference) + "</title><style>" +
      kStyle + "</style></head><body>\n";
  h += "<h1>Data drift: " + base::EscapeHtml(r.current) + " against " +
       base::EscapeHtml(r.reference) + "</h1>\n";
  h += "<p class=\"sub\">reference " + base::EscapeHtml(r.reference_version.substr(0, 12)) + " (" +
       std::to_string(r.reference_rows) + " rows), current " +
       base::EscapeHtml(r.current_version.substr(0, 12)) + " (" + std::to_string(r.current_rows) +
       " rows)</p>\n";
  char buf[200];
  std::snprintf(buf, sizeof buf, "%d of %d compared columns drifted (share %.3g, threshold %.3g)",
                r.drifted_columns, r.compared_columns, r.drift_share, r.share_threshold);
  h += std::string("<div class=\"verdict ") + (r.dataset_drift ? "drift" : "ok") +
       "\" id=\"verdict\">" + (r.dataset_drift ? "Dataset drift: " : "No dataset drift: ") + buf +
       "</div>\n";
  h += "<table id=\"drift-table\"><thead><tr><th>column</th><th>type</th><th>method</th>"
       "<th>statistic</th><th>p-value</th><th>threshold</th><th>reference values</th>"
       "<th>current values</th><th>drift</th></tr></thead><tbody>\n";
  for (const auto& c : r.columns) {
    const char* cls = !c.compared ? "skipped" : (c.drifted ? "drifted" : "ok");
    h += std::string("<tr class=\"") + cls + "\" data-column=\"" + base::EscapeHtml(c.name) + "\">";
    h += "<td>" + base::EscapeHtml(c.name) + "</td><td class=\"text\">" + base::EscapeHtml(c.type) +
         "</td><td class=\"text\">" + base::EscapeHtml(c.method) + "</td>";
    h += "<td>" + Num(c.statistic) + "</td><td>" + Num(c.p_value) + "</td><td>" +
         (c.compared ? Num(c.threshold) : std::string("&ndash;")) + "</td>";
    h += "<td>" + std::to_string(c.reference_values) + "</td><td>" +
         std::to_string(c.current_values) + "</td>";
    h += "<td class=\"flag text\">" +
         (c.compared ? std::string(c.drifted ? "drift" : "no drift")
                     : "not compared: " + base::EscapeHtml(c.note)) +
         "</td></tr>\n";
  }
  h += "</tbody></table>\n<div class=\"legend\"><span style=\"background:#0969da;opacity:.5\">"
       "</span>reference<span style=\"background:#fb8500;opacity:.5\"></span>current "
       "(share of each side's values per bin)</div>\n<div class=\"charts\">\n";
  for (const auto& c : r.columns) {
    if (c.reference_counts.empty()) continue;
    h += "<div class=\"chart\" data-chart=\"" + base::EscapeHtml(c.name) + "\"><h2>" +
         base::EscapeHtml(c.name) + " &middot; " + base::EscapeHtml(c.method) +
         (c.drifted ? " &middot; drift" : "") + "</h2>" + Histogram(c) + "</div>\n";
  }
  h += "</div>\n</body></html>\n";
  return h;
}

std::string ProfileHtml(const Profile& p) {
  std::string h =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>sluice profile: " +
      base::EscapeHtml(p.dataset) + "</title><style>" + kStyle + "</style></head><body>\n";
  h += "<h1>Profile: " + base::EscapeHtml(p.dataset) + "</h1>\n<p class=\"sub\">version " +
       base::EscapeHtml(p.version.substr(0, 12)) + ", " + std::to_string(p.rows) + " rows, " +
       std::to_string(p.columns.size()) + " columns</p>\n";
  h += "<table id=\"profile-table\"><thead><tr><th>column</th><th>type</th><th>count</th>"
       "<th>nulls</th><th>distinct</th><th>mean</th><th>stddev</th><th>min</th><th>p50</th>"
       "<th>max</th></tr></thead><tbody>\n";
  for (const auto& c : p.columns) {
    const bool numeric = IsNumeric(c.type);
    h += "<tr data-column=\"" + base::EscapeHtml(c.name) + "\"><td>" + base::EscapeHtml(c.name) +
         "</td><td class=\"text\">" + base::EscapeHtml(types::LogicalTypeName(c.type)) +
         "</td><td>" + std::to_string(c.count) + "</td><td>" + std::to_string(c.nulls) +
         "</td><td>" + std::to_string(c.distinct) + "</td><td>" + Num(c.mean) + "</td><td>" +
         Num(c.stddev) + "</td><td class=\"text\">" +
         (numeric ? Num(c.min) : base::EscapeHtml(c.min_text.value_or(""))) + "</td><td>" +
         (c.quantiles.size() == 7 ? Num(c.quantiles[3]) : std::string("&ndash;")) +
         "</td><td class=\"text\">" +
         (numeric ? Num(c.max) : base::EscapeHtml(c.max_text.value_or(""))) + "</td></tr>\n";
  }
  h += "</tbody></table>\n<div class=\"charts\">\n";
  for (const auto& c : p.columns) {
    // Reuse the drift chart with the profile on both sides' place: one series.
    ColumnDrift chart;
    chart.name = c.name;
    if (!c.histogram.empty()) {
      for (const auto& b : c.histogram) {
        chart.edges.push_back(b.lower);
        chart.reference_counts.push_back(b.count);
        chart.current_counts.push_back(0);
      }
      chart.edges.push_back(c.histogram.back().upper);
    } else if (!c.top.empty()) {
      for (const auto& t : c.top) {
        chart.categories.push_back(t.value);
        chart.reference_counts.push_back(t.count);
        chart.current_counts.push_back(0);
      }
    } else {
      continue;
    }
    h += "<div class=\"chart\" data-chart=\"" + base::EscapeHtml(c.name) + "\"><h2>" +
         base::EscapeHtml(c.name) +
         (c.histogram.empty() ? " &middot; top values" : " &middot; histogram") + "</h2>" +
         Histogram(chart) + "</div>\n";
  }
  h += "</div>\n</body></html>\n";
  return h;
}

base::Status WriteHtmlReport(const std::filesystem::path& path, const std::string& html) {
  return lake::WriteFileAtomic(path, html);
}

}  // namespace sluice::quality
