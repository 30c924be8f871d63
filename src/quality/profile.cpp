#include "quality/profile.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "lake/atomic_file.h"
#include "warehouse/duckdb_database.h"
#include "warehouse/warehouse.h"

namespace sluice::quality {
namespace {

using warehouse::QuoteIdentifier;
using warehouse::QuoteLiteral;

constexpr std::string_view kProfileSuffix = ".profile.json";
constexpr const char* kQuantileNames[] = {"p1", "p5", "p25", "p50", "p75", "p95", "p99"};

std::string Num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

std::string Alias(size_t column, std::string_view what) {
  return "c" + std::to_string(column) + "_" + std::string(what);
}

std::optional<double> FiniteOrNone(const types::Column& c, size_t row) {
  if (!c.IsValid(row)) return std::nullopt;
  const double v = c.GetDouble(row);
  if (!std::isfinite(v)) return std::nullopt;
  return v;
}

// Pass 1: every per-column aggregate in one scan of the version's rows.
std::string AggregateSql(const std::string& from, const lake::Manifest& m) {
  std::string inner = "count(*)::BIGINT AS total_rows";
  std::string outer = "total_rows";
  std::string levels;
  for (double q : kQuantileLevels)
    levels += (levels.empty() ? "" : ", ") + Num(q);
  for (size_t i = 0; i < m.schema.size(); ++i) {
    const auto& f = m.schema.fields()[i];
    const std::string c = QuoteIdentifier(f.name);
    auto add = [&](std::string_view what, const std::string& expr) {
      inner += ", " + expr + " AS " + Alias(i, what);
      outer += ", " + Alias(i, what);
    };
    add("count", "count(" + c + ")::BIGINT");
    add("distinct", "count(DISTINCT " + c + ")::BIGINT");
    if (IsNumeric(f.type)) {
      const std::string d = "CAST(" + c + " AS DOUBLE)";
      add("mean", "avg(" + d + ")");
      add("stddev", "stddev_samp(" + d + ")");
      add("min", "min(" + d + ")");
      add("max", "max(" + d + ")");
      inner += ", quantile_cont(" + d + ", [" + levels + "]) AS " + Alias(i, "q");
      for (size_t k = 0; k < kQuantileLevels.size(); ++k) {
        outer += ", " + Alias(i, "q") + "[" + std::to_string(k + 1) + "] AS " +
                 Alias(i, "q" + std::to_string(k));
      }
    } else {
      add("min", "CAST(min(" + c + ") AS VARCHAR)");
      add("max", "CAST(max(" + c + ") AS VARCHAR)");
    }
  }
  return "SELECT " + outer + " FROM (SELECT " + inner + " FROM (" + from + ") AS t) AS a";
}

// Pass 2: histogram bins of numeric columns and top values of text columns, one grouped
// subquery per column (each reads one Parquet column).
std::string GroupedSql(const std::string& from, const lake::Manifest& m, const Profile& p,
                       const ProfileOptions& options) {
  std::string sql;
  for (size_t i = 0; i < m.schema.size(); ++i) {
    const auto& f = m.schema.fields()[i];
    const ColumnProfile& cp = p.columns[i];
    const std::string c = QuoteIdentifier(f.name);
    std::string part;
    if (IsNumeric(f.type) && cp.min && cp.max) {
      // numpy.histogram's uniform-bin rule, to the last bit: index (v - lo) * (bins / (hi - lo)),
      // then moved by one where it disagrees with the linspace edges k * step + lo.
      const double lo = *cp.min, hi = *cp.max;
      const int bins = hi > lo ? options.histogram_bins : 1;
      const double norm = hi > lo ? bins / (hi - lo) : 0.0;
      const double step = hi > lo ? (hi - lo) / bins : 0.0;
      const std::string d = "CAST(" + c + " AS DOUBLE)";
      const std::string last = std::to_string(bins - 1);
      part = "SELECT " + std::to_string(i) + "::BIGINT AS col, bin, NULL::VARCHAR AS value, " +
             "count(*)::BIGINT AS n FROM (SELECT CASE WHEN v < b * " + Num(step) + " + " + Num(lo) +
             " THEN b - 1 WHEN b <> " + last + " AND v >= (b + 1) * " + Num(step) + " + " +
             Num(lo) + " THEN b + 1 ELSE b END AS bin FROM (SELECT v, LEAST(CAST(trunc((v - " +
             Num(lo) + ") * " + Num(norm) + ") AS BIGINT), " + last + ") AS b FROM (SELECT " + d +
             " AS v FROM (" + from + ") AS t) AS u WHERE isfinite(v)) AS w) AS x GROUP BY bin";
    } else if ((f.type == types::LogicalType::kString || f.type == types::LogicalType::kBool) &&
               cp.count > 0) {
      part = "SELECT * FROM (SELECT " + std::to_string(i) +
             "::BIGINT AS col, NULL::BIGINT AS bin, CAST(" + c +
             " AS VARCHAR) AS value, count(*)::BIGINT AS n FROM (" + from + ") AS t WHERE " + c +
             " IS NOT NULL GROUP BY value ORDER BY n DESC, value LIMIT " +
             std::to_string(options.top_values) + ")";
    }
    if (part.empty()) continue;
    sql += (sql.empty() ? "" : " UNION ALL ") + part;
  }
  return sql;
}

nlohmann::json NumberOrNull(const std::optional<double>& v) {
  if (!v || !std::isfinite(*v)) return nullptr;
  return *v;
}

std::optional<double> OptionalNumber(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return std::nullopt;
  return it->get<double>();
}

// Quantile q of a histogram, by linear interpolation inside the bin that holds it.
double HistogramQuantile(const std::vector<HistogramBin>& bins, double q) {
  std::int64_t total = 0;
  for (const auto& b : bins)
    total += b.count;
  if (total == 0) return 0;
  const double target = q * static_cast<double>(total);
  double seen = 0;
  for (const auto& b : bins) {
    if (seen + static_cast<double>(b.count) >= target && b.count > 0) {
      const double f = (target - seen) / static_cast<double>(b.count);
      return b.lower + f * (b.upper - b.lower);
    }
    seen += static_cast<double>(b.count);
  }
  return bins.back().upper;
}

std::vector<HistogramBin> MergeHistograms(const std::vector<HistogramBin>& a,
                                          const std::vector<HistogramBin>& b, double lo, double hi,
                                          int bins) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  const bool same = a.size() == b.size() &&
                    std::equal(a.begin(), a.end(), b.begin(), [](const auto& x, const auto& y) {
                      return x.lower == y.lower && x.upper == y.upper;
                    });
  if (same) {
    auto out = a;
    for (size_t i = 0; i < out.size(); ++i)
      out[i].count += b[i].count;
    return out;
  }
  if (!(hi > lo)) bins = 1;
  const double width = hi > lo ? (hi - lo) / bins : 1.0;
  std::vector<double> counts(static_cast<size_t>(bins), 0.0);
  for (const auto* h : {&a, &b}) {
    for (const auto& bin : *h) {
      const double span = bin.upper - bin.lower;
      if (!(span > 0)) {
        const auto k = std::clamp<std::int64_t>(
            static_cast<std::int64_t>(std::floor((bin.lower - lo) / width)), 0, bins - 1);
        counts[static_cast<size_t>(k)] += static_cast<double>(bin.count);
        continue;
      }
      for (int k = 0; k < bins; ++k) {
        const double l = lo + k * width, u = k == bins - 1 ? hi : lo + (k + 1) * width;
        const double overlap = std::min(u, bin.upper) - std::max(l, bin.lower);
        if (overlap > 0) counts[static_cast<size_t>(k)] += bin.count * overlap / span;
      }
    }
  }
  std::vector<HistogramBin> out;
  for (int k = 0; k < bins; ++k) {
    out.push_back({lo + k * width, k == bins - 1 ? hi : lo + (k + 1) * width,
                   static_cast<std::int64_t>(std::llround(counts[static_cast<size_t>(k)]))});
  }
  return out;
}

}  // namespace

const ColumnProfile* Profile::Find(std::string_view column) const {
  for (const auto& c : columns)
    if (c.name == column) return &c;
  return nullptr;
}

base::Status CheckScannable(const lake::Lake& lake, const lake::Manifest& manifest) {
  if (lake.DataFiles(manifest).empty() && manifest.rows.loaded > 0) {
    return base::FailedPrecondition(manifest.dataset + " version " + manifest.id.substr(0, 12) +
                                    " has no Parquet data to read (a CSV-only training set?)");
  }
  return base::Status();
}

bool IsNumeric(types::LogicalType type) {
  return type == types::LogicalType::kInt64 || type == types::LogicalType::kDouble ||
         type == types::LogicalType::kBool;
}

base::Result<Profile> ComputeProfile(const lake::Lake& lake, const lake::Manifest& manifest,
                                     const ProfileOptions& options) {
  warehouse::DuckDb::Options db_options;
  db_options.threads = options.threads;
  SLUICE_RETURN_IF_ERROR(CheckScannable(lake, manifest));
  SLUICE_ASSIGN_OR_RETURN(warehouse::DuckDb db, warehouse::DuckDb::Open(":memory:", db_options));
  const std::string from = warehouse::ParquetSelectSql(lake.DataFiles(manifest), manifest.schema);
  Profile p;
  p.dataset = manifest.dataset;
  p.version = manifest.id;
  auto agg = db.Query(AggregateSql(from, manifest));
  if (!agg.ok()) {
    return agg.status().WithContext("profiling " + manifest.dataset + " version " +
                                    manifest.id.substr(0, 12));
  }
  const types::Batch& a = *agg;
  auto col = [&](const std::string& name) -> const types::Column& {
    return a.column(*a.schema().IndexOf(name));
  };
  p.rows = col("total_rows").GetInt64(0);
  for (size_t i = 0; i < manifest.schema.size(); ++i) {
    const auto& f = manifest.schema.fields()[i];
    ColumnProfile c;
    c.name = f.name;
    c.type = f.type;
    c.count = col(Alias(i, "count")).GetInt64(0);
    c.nulls = p.rows - c.count;
    c.distinct = col(Alias(i, "distinct")).GetInt64(0);
    if (IsNumeric(f.type)) {
      c.mean = FiniteOrNone(col(Alias(i, "mean")), 0);
      c.stddev = FiniteOrNone(col(Alias(i, "stddev")), 0);
      c.min = FiniteOrNone(col(Alias(i, "min")), 0);
      c.max = FiniteOrNone(col(Alias(i, "max")), 0);
      for (size_t k = 0; k < kQuantileLevels.size(); ++k) {
        auto q = FiniteOrNone(col(Alias(i, "q" + std::to_string(k))), 0);
        if (!q) {
          c.quantiles.clear();
          break;
        }
        c.quantiles.push_back(*q);
      }
    } else {
      const auto& mn = col(Alias(i, "min"));
      const auto& mx = col(Alias(i, "max"));
      if (mn.IsValid(0)) c.min_text = std::string(mn.GetString(0));
      if (mx.IsValid(0)) c.max_text = std::string(mx.GetString(0));
    }
    p.columns.push_back(std::move(c));
  }
  const std::string grouped = GroupedSql(from, manifest, p, options);
  if (grouped.empty()) return p;
  auto g = db.Query(grouped);
  if (!g.ok()) {
    return g.status().WithContext("profiling " + manifest.dataset + " version " +
                                  manifest.id.substr(0, 12));
  }
  for (size_t i = 0; i < p.columns.size(); ++i) {
    ColumnProfile& c = p.columns[i];
    if (IsNumeric(c.type) && c.min && c.max) {
      const int bins = *c.max > *c.min ? options.histogram_bins : 1;
      const double step = *c.max > *c.min ? (*c.max - *c.min) / bins : 0.0;
      for (int k = 0; k < bins; ++k) {
        c.histogram.push_back(
            {k * step + *c.min, k == bins - 1 ? *c.max : (k + 1) * step + *c.min, 0});
      }
    }
  }
  const auto& gc = g->column(0);
  const auto& gb = g->column(1);
  const auto& gv = g->column(2);
  const auto& gn = g->column(3);
  for (size_t r = 0; r < g->num_rows(); ++r) {
    ColumnProfile& c = p.columns[static_cast<size_t>(gc.GetInt64(r))];
    if (gb.IsValid(r)) {
      const auto bin = static_cast<size_t>(gb.GetInt64(r));
      if (bin < c.histogram.size()) c.histogram[bin].count += gn.GetInt64(r);
    } else {
      c.top.push_back({std::string(gv.GetString(r)), gn.GetInt64(r)});
    }
  }
  for (auto& c : p.columns) {
    std::stable_sort(c.top.begin(), c.top.end(), [](const TopValue& x, const TopValue& y) {
      return x.count != y.count ? x.count > y.count : x.value < y.value;
    });
  }
  return p;
}

std::string ProfileToJson(const Profile& p) {
  nlohmann::ordered_json j;
  j["format_version"] = Profile::kFormatVersion;
  j["dataset"] = p.dataset;
  j["version"] = p.version;
  j["rows"] = p.rows;
  nlohmann::ordered_json columns = nlohmann::ordered_json::array();
  for (const auto& c : p.columns) {
    nlohmann::ordered_json o;
    o["name"] = c.name;
    o["type"] = std::string(types::LogicalTypeName(c.type));
    o["count"] = c.count;
    o["nulls"] = c.nulls;
    o["distinct"] = c.distinct;
    o["mean"] = NumberOrNull(c.mean);
    o["stddev"] = NumberOrNull(c.stddev);
    if (IsNumeric(c.type)) {
      o["min"] = NumberOrNull(c.min);
      o["max"] = NumberOrNull(c.max);
    } else {
      o["min"] = c.min_text ? nlohmann::ordered_json(*c.min_text) : nlohmann::ordered_json();
      o["max"] = c.max_text ? nlohmann::ordered_json(*c.max_text) : nlohmann::ordered_json();
    }
    if (c.quantiles.size() == kQuantileLevels.size()) {
      nlohmann::ordered_json q;
      for (size_t k = 0; k < kQuantileLevels.size(); ++k)
        q[kQuantileNames[k]] = c.quantiles[k];
      o["quantiles"] = q;
    } else {
      o["quantiles"] = nullptr;
    }
    nlohmann::ordered_json hist = nlohmann::ordered_json::array();
    for (const auto& b : c.histogram)
      hist.push_back({{"lower", b.lower}, {"upper", b.upper}, {"count", b.count}});
    o["histogram"] = hist;
    nlohmann::ordered_json top = nlohmann::ordered_json::array();
    for (const auto& t : c.top)
      top.push_back({{"value", t.value}, {"count", t.count}});
    o["top"] = top;
    columns.push_back(std::move(o));
  }
  j["columns"] = std::move(columns);
  return j.dump(2);
}

base::Result<Profile> ParseProfile(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return base::Corruption("a profile is not a JSON object");
  try {
    if (j.at("format_version").get<int>() != Profile::kFormatVersion) {
      return base::Corruption("unknown profile format_version " + j.at("format_version").dump());
    }
    Profile p;
    p.dataset = j.at("dataset").get<std::string>();
    p.version = j.at("version").get<std::string>();
    p.rows = j.at("rows").get<std::int64_t>();
    for (const auto& o : j.at("columns")) {
      ColumnProfile c;
      c.name = o.at("name").get<std::string>();
      auto type = types::ParseLogicalType(o.at("type").get<std::string>());
      if (!type.ok()) return base::Corruption("profile column '" + c.name + "': bad type");
      c.type = *type;
      c.count = o.at("count").get<std::int64_t>();
      c.nulls = o.at("nulls").get<std::int64_t>();
      c.distinct = o.at("distinct").get<std::int64_t>();
      c.mean = OptionalNumber(o, "mean");
      c.stddev = OptionalNumber(o, "stddev");
      if (IsNumeric(c.type)) {
        c.min = OptionalNumber(o, "min");
        c.max = OptionalNumber(o, "max");
      } else {
        if (!o.at("min").is_null()) c.min_text = o.at("min").get<std::string>();
        if (!o.at("max").is_null()) c.max_text = o.at("max").get<std::string>();
      }
      if (!o.at("quantiles").is_null()) {
        for (const char* name : kQuantileNames)
          c.quantiles.push_back(o.at("quantiles").at(name).get<double>());
      }
      for (const auto& b : o.at("histogram")) {
        c.histogram.push_back({b.at("lower").get<double>(), b.at("upper").get<double>(),
                               b.at("count").get<std::int64_t>()});
      }
      for (const auto& t : o.at("top"))
        c.top.push_back({t.at("value").get<std::string>(), t.at("count").get<std::int64_t>()});
      p.columns.push_back(std::move(c));
    }
    return p;
  } catch (const nlohmann::json::exception& e) {
    return base::Corruption(std::string("malformed profile: ") + e.what());
  }
}

base::Result<std::optional<Profile>> ReadStoredProfile(const lake::Lake& lake,
                                                       const lake::Manifest& manifest) {
  const auto path = lake.SidecarPath(manifest, kProfileSuffix);
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<Profile>();
  SLUICE_ASSIGN_OR_RETURN(std::string text, lake::ReadFile(path));
  auto p = ParseProfile(text);
  if (!p.ok()) return p.status().WithContext(path.string());
  if (p->version != manifest.id) {
    return base::Corruption("'" + path.string() + "' is the profile of another version");
  }
  return std::optional<Profile>(std::move(p).value());
}

base::Status StoreProfile(const lake::Lake& lake, const lake::Manifest& manifest,
                          const Profile& profile) {
  return lake::WriteFileAtomic(lake.SidecarPath(manifest, kProfileSuffix),
                               ProfileToJson(profile) + "\n");
}

base::Result<Profile> EnsureProfile(const lake::Lake& lake, const lake::Manifest& manifest,
                                    const ProfileOptions& options, bool* computed) {
  if (computed) *computed = false;
  auto stored = ReadStoredProfile(lake, manifest);
  if (stored.ok() && stored->has_value()) return std::move(**stored);
  // A damaged profile is derived data: compute it again rather than fail.
  SLUICE_ASSIGN_OR_RETURN(Profile p, ComputeProfile(lake, manifest, options));
  SLUICE_RETURN_IF_ERROR(StoreProfile(lake, manifest, p));
  if (computed) *computed = true;
  return p;
}

Profile MergeProfiles(const Profile& a, const Profile& b) {
  Profile out;
  out.dataset = a.dataset;
  out.version = a.version + "+" + b.version;
  out.rows = a.rows + b.rows;
  for (const auto& ca : a.columns) {
    const ColumnProfile* cb = b.Find(ca.name);
    if (cb == nullptr) {
      ColumnProfile c = ca;
      c.nulls += b.rows;  // absent in b: all of b's rows are nulls for it
      out.columns.push_back(std::move(c));
      continue;
    }
    ColumnProfile c;
    c.name = ca.name;
    c.type = ca.type;
    c.count = ca.count + cb->count;
    c.nulls = ca.nulls + cb->nulls;
    c.distinct = std::max(ca.distinct, cb->distinct);
    auto pick = [](const std::optional<double>& x, const std::optional<double>& y, bool lower) {
      if (!x) return y;
      if (!y) return x;
      return std::optional<double>(lower ? std::min(*x, *y) : std::max(*x, *y));
    };
    c.min = pick(ca.min, cb->min, true);
    c.max = pick(ca.max, cb->max, false);
    if (ca.mean && cb->mean) {
      const double na = static_cast<double>(ca.count), nb = static_cast<double>(cb->count);
      const double n = na + nb;
      const double delta = *cb->mean - *ca.mean;
      c.mean = *ca.mean + delta * nb / n;
      const double m2a = ca.stddev ? *ca.stddev * *ca.stddev * (na - 1) : 0.0;
      const double m2b = cb->stddev ? *cb->stddev * *cb->stddev * (nb - 1) : 0.0;
      const double m2 = m2a + m2b + delta * delta * na * nb / n;
      if (n > 1) c.stddev = std::sqrt(m2 / (n - 1));
    } else {
      c.mean = ca.mean ? ca.mean : cb->mean;
      c.stddev = ca.mean ? ca.stddev : cb->stddev;
    }
    auto pick_text = [](const std::optional<std::string>& x, const std::optional<std::string>& y,
                        bool lower) {
      if (!x) return y;
      if (!y) return x;
      return std::optional<std::string>(lower ? std::min(*x, *y) : std::max(*x, *y));
    };
    c.min_text = pick_text(ca.min_text, cb->min_text, true);
    c.max_text = pick_text(ca.max_text, cb->max_text, false);
    const int bins = static_cast<int>(std::max(ca.histogram.size(), cb->histogram.size()));
    if (c.min && c.max && bins > 0) {
      c.histogram = MergeHistograms(ca.histogram, cb->histogram, *c.min, *c.max, bins);
      if (!c.histogram.empty() && (!ca.quantiles.empty() || !cb->quantiles.empty())) {
        for (double q : kQuantileLevels)
          c.quantiles.push_back(HistogramQuantile(c.histogram, q));
      }
    }
    std::map<std::string, std::int64_t> top;
    for (const auto* t : {&ca.top, &cb->top})
      for (const auto& v : *t)
        top[v.value] += v.count;
    for (const auto& [value, count] : top)
      c.top.push_back({value, count});
    std::stable_sort(c.top.begin(), c.top.end(), [](const TopValue& x, const TopValue& y) {
      return x.count != y.count ? x.count > y.count : x.value < y.value;
    });
    const size_t keep = std::max(ca.top.size(), cb->top.size());
    if (c.top.size() > keep) c.top.resize(keep);
    out.columns.push_back(std::move(c));
  }
  for (const auto& cb : b.columns) {
    if (a.Find(cb.name) != nullptr) continue;
    ColumnProfile c = cb;
    c.nulls += a.rows;
    out.columns.push_back(std::move(c));
  }
  return out;
}

}  // namespace sluice::quality
