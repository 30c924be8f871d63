#include "quality/profile.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <numeric>

#include "base/time.h"
#include "lake/atomic_file.h"
#include "quality/column_scan.h"
#include "quality/numeric_summary.h"
#include "warehouse/duckdb_database.h"
#include "warehouse/warehouse.h"

namespace sluice::quality {
namespace {

using warehouse::QuoteIdentifier;

constexpr std::string_view kProfileSuffix = ".profile.json";
constexpr std::string_view kSegmentProfileSuffix = ".segment.profile.json";
constexpr const char* kQuantileNames[] = {"p1", "p5", "p25", "p50", "p75", "p95", "p99"};

// Count, nulls, distinct, moments, extremes, quantiles and histogram of one numeric column.
void FillNumeric(ColumnProfile& c, NumericSummary s, const ProfileOptions& options) {
  c.count = s.count;
  c.nulls = s.rows - s.count;
  c.distinct = s.distinct;
  c.min = s.min;
  c.max = s.max;
  c.mean = s.mean;
  c.stddev = s.stddev;
  c.quantiles = std::move(s.quantiles);
  if (!c.min || !c.max || s.histogram.empty()) return;
  if (s.histogram.size() == 1 && !(*c.max > *c.min)) {
    c.histogram.push_back({*c.min, *c.max, s.histogram[0]});
    return;
  }
  const NumpyBins bins(*c.min, *c.max, std::max(options.histogram_bins, 1));
  for (int k = 0; k < bins.size(); ++k)
    c.histogram.push_back({bins.edge(k), bins.edge(k + 1), s.histogram[static_cast<size_t>(k)]});
}

// Count, distinct, extremes and top values of a text column from its value counts.
void FillText(ColumnProfile& c, const ValueCounts& vc, std::int64_t rows,
              const ProfileOptions& options) {
  c.count = vc.total();
  c.nulls = rows - c.count;
  c.distinct = static_cast<std::int64_t>(vc.values.size());
  if (vc.values.empty()) return;
  c.min_text = vc.values.front();
  c.max_text = vc.values.back();
  if (c.type != types::LogicalType::kString) return;
  std::vector<size_t> order(vc.values.size());
  std::iota(order.begin(), order.end(), size_t{0});
  auto before = [&](size_t x, size_t y) {
    return vc.counts[x] != vc.counts[y] ? vc.counts[x] > vc.counts[y] : x < y;  // values ascend
  };
  const size_t keep = std::min(order.size(), static_cast<size_t>(std::max(options.top_values, 0)));
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(keep), order.end(),
                    before);
  for (size_t i = 0; i < keep; ++i)
    c.top.push_back({vc.values[order[i]], vc.counts[order[i]]});
}

// A timestamp or date column: count, distinct and the extremes as DuckDB renders them.
std::string TemporalSql(const std::string& from, const std::string& name) {
  const std::string c = QuoteIdentifier(name);
  return "SELECT count(" + c + ")::BIGINT, count(DISTINCT " + c + ")::BIGINT, CAST(min(" + c +
         ") AS VARCHAR), CAST(max(" + c + ") AS VARCHAR), count(*)::BIGINT FROM (" + from +
         ") AS t";
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

namespace {

// The profile of the rows in `files` (Parquet, with the columns of `manifest.schema`).
base::Result<Profile> ProfileOfFiles(const std::vector<std::filesystem::path>& files,
                                     std::int64_t expected_rows, const lake::Manifest& manifest,
                                     const ProfileOptions& options) {
  const std::string from = warehouse::ParquetSelectSql(files, manifest.schema);
  const std::string context =
      "profiling " + manifest.dataset + " version " + manifest.id.substr(0, 12);
  // Numbers are sorted in memory (exact quantiles and distinct counts from one sort), strings
  // and bools counted per value; timestamps and dates keep a small SQL aggregate.
  struct {
    std::vector<std::string> numeric;      // BIGINT or DOUBLE expressions
    std::vector<std::string> categorical;  // VARCHAR expressions
    size_t expected_rows = 0;
  } spec;
  spec.expected_rows = static_cast<size_t>(std::max<std::int64_t>(expected_rows, 0));
  std::vector<std::string> temporal;
  enum class Kind { kNumeric, kText, kTemporal };
  std::vector<std::pair<Kind, size_t>> slot;  // per schema column: where its values are
  for (const auto& f : manifest.schema.fields()) {
    const std::string c = QuoteIdentifier(f.name);
    if (f.type == types::LogicalType::kInt64 || f.type == types::LogicalType::kDouble) {
      slot.emplace_back(Kind::kNumeric, spec.numeric.size());
      spec.numeric.push_back(c);
    } else if (f.type == types::LogicalType::kBool) {
      slot.emplace_back(Kind::kNumeric, spec.numeric.size());
      spec.numeric.push_back("CAST(" + c + " AS BIGINT)");
    } else if (f.type == types::LogicalType::kString) {
      slot.emplace_back(Kind::kText, spec.categorical.size());
      spec.categorical.push_back(c);
    } else {
      slot.emplace_back(Kind::kTemporal, temporal.size());
      temporal.push_back(f.name);
    }
  }
  // Each column is one task on a worker, summarized as soon as it is read (the keys live in the
  // worker's reused buffer only until the next column). The costliest kinds go first, so the
  // cheap text columns fill the gaps at the end instead of one worker finishing a number alone.
  std::vector<ColumnProfile> columns(manifest.schema.size());
  std::vector<size_t> tasks;  // schema positions, in the order the workers take them
  for (const Kind kind : {Kind::kNumeric, Kind::kTemporal, Kind::kText}) {
    for (size_t i = 0; i < manifest.schema.size(); ++i)
      if (slot[i].first == kind) tasks.push_back(i);
  }
  for (size_t i = 0; i < manifest.schema.size(); ++i) {
    const auto& f = manifest.schema.fields()[i];
    columns[i].name = f.name;
    columns[i].type = f.type;
  }
  warehouse::DuckDb::Options db_options;
  db_options.threads = options.threads;
  // With several workers DuckDB runs on one thread during the scan (ForEachColumn): opened so,
  // it starts no threads of its own only to stop them again.
  if (ScanWorkers(options.threads, tasks.size()) > 1) db_options.threads = 1;
  SLUICE_ASSIGN_OR_RETURN(warehouse::DuckDb db, warehouse::DuckDb::Open(":memory:", db_options));
  std::atomic<std::int64_t> rows{-1};
  auto task = [&](ColumnReader& reader, int, size_t t) -> base::Status {
    const size_t i = tasks[t];
    const auto [kind, at] = slot[i];
    ColumnProfile& c = columns[i];
    if (kind == Kind::kTemporal) {
      SLUICE_ASSIGN_OR_RETURN(types::Batch b, reader.Query(TemporalSql(from, temporal[at])));
      c.count = b.column(0).GetInt64(0);
      c.distinct = b.column(1).GetInt64(0);
      if (b.column(2).IsValid(0)) c.min_text = std::string(b.column(2).GetString(0));
      if (b.column(3).IsValid(0)) c.max_text = std::string(b.column(3).GetString(0));
      rows = b.column(4).GetInt64(0);
    } else if (kind == Kind::kNumeric) {
      SLUICE_ASSIGN_OR_RETURN(
          NumericSummary s,
          reader.ReadSummary(from, spec.numeric[at], spec.expected_rows, kQuantileLevels,
                             std::max(options.histogram_bins, 1)));
      rows = s.rows;
      FillNumeric(c, std::move(s), options);
    } else {
      SLUICE_ASSIGN_OR_RETURN(ValueCounts vc, reader.CountValues(from, spec.categorical[at]));
      rows = vc.rows;
      FillText(c, vc, vc.rows, options);
    }
    return base::Status::Ok();
  };
  const base::Status scanned = ForEachColumn(db, tasks.size(), options.threads, task,
                                             [&](size_t t) { return columns[tasks[t]].name; });
  if (!scanned.ok()) return scanned.WithContext(context);
  Profile p;
  p.dataset = manifest.dataset;
  p.version = manifest.id;
  p.rows = rows.load();
  if (p.rows < 0) {
    auto n = db.QueryScalarInt64("SELECT count(*) FROM (" + from + ") AS t");
    if (!n.ok()) return n.status().WithContext(context);
    p.rows = *n;
  }
  for (size_t i = 0; i < manifest.schema.size(); ++i) {
    ColumnProfile c = std::move(columns[i]);
    if (slot[i].first == Kind::kTemporal) c.nulls = p.rows - c.count;
    p.columns.push_back(std::move(c));
  }
  return p;
}

}  // namespace

base::Result<Profile> ComputeProfile(const lake::Lake& lake, const lake::Manifest& manifest,
                                     const ProfileOptions& options) {
  SLUICE_RETURN_IF_ERROR(CheckScannable(lake, manifest));
  return ProfileOfFiles(lake.DataFiles(manifest), manifest.rows.loaded, manifest, options);
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

std::optional<std::vector<std::filesystem::path>> AddedDataFiles(const lake::Lake& lake,
                                                                 const lake::Manifest& version,
                                                                 const lake::Manifest* parent) {
  std::vector<std::filesystem::path> files = lake.DataFiles(version);
  if (parent == nullptr) return files;
  const std::vector<std::filesystem::path> before = lake.DataFiles(*parent);
  // A stream version lists its parent's files first, then its own.
  if (before.size() > files.size() || !std::equal(before.begin(), before.end(), files.begin())) {
    return std::nullopt;
  }
  files.erase(files.begin(), files.begin() + static_cast<std::ptrdiff_t>(before.size()));
  return files;
}

base::Result<std::vector<PeriodProfile>> ProfilesByPeriod(const lake::Lake& lake,
                                                          const std::string& dataset,
                                                          ProfilePeriod period,
                                                          const ProfileOptions& options) {
  SLUICE_ASSIGN_OR_RETURN(std::vector<lake::Manifest> history, lake.History(dataset));
  if (history.empty()) return base::NotFound("dataset '" + dataset + "' has no versions");
  const std::int64_t unit =
      period == ProfilePeriod::kHour ? std::int64_t{3600} * 1000000 : std::int64_t{86400} * 1000000;
  std::map<std::string, PeriodProfile> periods;  // by start; the text sorts as the time
  for (size_t i = 0; i < history.size(); ++i) {
    const lake::Manifest& m = history[i];
    const lake::Manifest* parent = i == 0 ? nullptr : &history[i - 1];
    auto added = AddedDataFiles(lake, m, parent);
    if (!added) {
      return base::FailedPrecondition(
          dataset + " version " + m.id.substr(0, 12) + " replaces the data of version " +
          parent->id.substr(0, 12) +
          " instead of adding to it; profiles per period need an append-only dataset (a stream)");
    }
    SLUICE_ASSIGN_OR_RETURN(std::int64_t landed, base::ParseTimestampMicros(m.created_at));
    const std::int64_t start = (landed >= 0 ? landed : landed - unit + 1) / unit * unit;
    const std::string key = base::FormatTimestampMicros(start);
    // The segment's own profile: stored once, then read (derived data, so recomputed if damaged).
    const auto path = lake.SidecarPath(m, kSegmentProfileSuffix);
    std::optional<Profile> segment;
    std::error_code ec;
    if (std::filesystem::exists(path, ec)) {
      auto text = lake::ReadFile(path);
      if (text.ok()) {
        auto parsed = ParseProfile(*text);
        if (parsed.ok() && parsed->version == m.id) segment = std::move(*parsed);
      }
    }
    if (!segment) {
      auto data_rows = [](const lake::Manifest& v) {
        std::int64_t n = 0;
        for (const auto& o : v.outputs)
          if (o.name == "data") n += o.rows;
        return n;
      };
      const std::int64_t rows = data_rows(m) - (parent != nullptr ? data_rows(*parent) : 0);
      SLUICE_ASSIGN_OR_RETURN(Profile p, ProfileOfFiles(*added, rows, m, options));
      SLUICE_RETURN_IF_ERROR(lake::WriteFileAtomic(path, ProfileToJson(p) + "\n"));
      segment = std::move(p);
    }
    auto [it, first] = periods.try_emplace(key);
    PeriodProfile& into = it->second;
    into.profile = first ? std::move(*segment) : MergeProfiles(into.profile, *segment);
    into.period = key;
    into.versions.push_back(m.id);
    into.profile.version = m.id;
  }
  std::vector<PeriodProfile> out;
  for (auto& [key, p] : periods)
    out.push_back(std::move(p));
  return out;
}

}  // namespace sluice::quality
