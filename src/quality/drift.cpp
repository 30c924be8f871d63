#include "quality/drift.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <span>

#include "base/time.h"
#include "quality/column_scan.h"
#include "quality/drift_statistics.h"
#include "quality/profile.h"
#include "quality/served_features.h"
#include "warehouse/duckdb_database.h"
#include "warehouse/warehouse.h"

namespace sluice::quality {
namespace {

using config::DriftMethod;
using warehouse::QuoteIdentifier;

struct CategoricalSample {
  std::vector<std::string> values;  // ascending, distinct
  std::vector<std::int64_t> counts;
  std::int64_t size() const {
    std::int64_t n = 0;
    for (auto c : counts)
      n += c;
    return n;
  }
};

// The dataset a name refers to and its event-time column, from the project.
std::optional<std::string> EventTimeColumn(const config::ProjectSpec& project,
                                           const std::string& dataset) {
  if (const auto* s = project.FindSource(dataset)) return s->event_time;
  if (const auto* t = project.FindTrainingSet(dataset)) return t->timestamp;
  return std::nullopt;
}

base::Result<lake::Manifest> CurrentVersion(const lake::Lake& lake, const std::string& dataset) {
  SLUICE_ASSIGN_OR_RETURN(std::optional<lake::Manifest> m, lake.Current(dataset));
  if (!m) return base::NotFound("dataset '" + dataset + "' has no version in the lake");
  return std::move(*m);
}

std::string SideSql(const lake::Lake& lake, const DriftSide& side) {
  std::string sql = side.rows_sql ? *side.rows_sql
                                  : warehouse::ParquetSelectSql(lake.DataFiles(side.manifest),
                                                                side.manifest.schema);
  if (!side.time_column || (!side.from_micros && !side.to_micros)) return sql;
  const std::string t = "epoch_us(CAST(" + QuoteIdentifier(*side.time_column) + " AS TIMESTAMP))";
  std::string where;
  if (side.from_micros) where += t + " >= " + std::to_string(*side.from_micros);
  if (side.to_micros) {
    where += (where.empty() ? "" : " AND ") + t + " < " + std::to_string(*side.to_micros);
  }
  return "SELECT * FROM (" + sql + ") AS s WHERE " + where;
}

bool IsNumericType(types::LogicalType t) {
  return t == types::LogicalType::kInt64 || t == types::LogicalType::kDouble ||
         t == types::LogicalType::kTimestamp || t == types::LogicalType::kDate;
}

bool IsTimeType(types::LogicalType t) {
  return t == types::LogicalType::kTimestamp || t == types::LogicalType::kDate;
}

std::string TimeSqlType(types::LogicalType t) {
  return t == types::LogicalType::kDate ? "DATE" : "TIMESTAMP";
}

std::string AsDouble(const std::string& c, types::LogicalType t) {
  if (t == types::LogicalType::kTimestamp) return "CAST(epoch_us(" + c + ") AS DOUBLE)";
  if (t == types::LogicalType::kDate) {
    return "CAST(date_diff('day', DATE '1970-01-01', " + c + ") AS DOUBLE)";
  }
  return "CAST(" + c + " AS DOUBLE)";
}

CategoricalSample AsSample(ValueCounts&& counts) {
  CategoricalSample s;
  s.values = std::move(counts.values);
  s.counts = std::move(counts.counts);
  return s;
}

// Both samples over the union of their values (ascending): counts per key, zeros included.
struct KeyedCounts {
  std::vector<std::string> keys;
  std::vector<double> reference;
  std::vector<double> current;
};

KeyedCounts UnionCounts(const CategoricalSample& a, const CategoricalSample& b) {
  std::map<std::string, std::pair<double, double>> m;
  for (size_t i = 0; i < a.values.size(); ++i)
    m[a.values[i]].first += static_cast<double>(a.counts[i]);
  for (size_t i = 0; i < b.values.size(); ++i)
    m[b.values[i]].second += static_cast<double>(b.counts[i]);
  KeyedCounts k;
  for (const auto& [key, c] : m) {
    k.keys.push_back(key);
    k.reference.push_back(c.first);
    k.current.push_back(c.second);
  }
  return k;
}

CategoricalSample AsCategories(const NumericSample& s) {
  // Numbers as categories, keyed so that text order is numeric order for the union.
  CategoricalSample c;
  for (size_t i = 0; i < s.values.size(); ++i) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.17g", s.values[i]);
    c.values.emplace_back(buf);
    c.counts.push_back(s.counts[i]);
  }
  return c;
}

std::vector<double> Shares(const std::vector<double>& counts, double n) {
  std::vector<double> out(counts.size());
  for (size_t i = 0; i < counts.size(); ++i)
    out[i] = n > 0 ? counts[i] / n : 0.0;
  return out;
}

// Evidently's get_binned_data: Sturges bins over both samples for numbers with more than 20
// distinct reference values, else one bin per value; shares of each side's values.
void BinnedShares(const NumericSample* num_ref, const NumericSample* num_cur,
                  const CategoricalSample& cat_ref, const CategoricalSample& cat_cur,
                  std::vector<double>* ref, std::vector<double>* cur) {
  if (num_ref && num_ref->values.size() > 20) {
    const auto edges = SturgesEdges(*num_ref, *num_cur);
    const auto r = HistogramCounts(*num_ref, edges);
    const auto c = HistogramCounts(*num_cur, edges);
    const double nr = static_cast<double>(num_ref->size());
    const double nc = static_cast<double>(num_cur->size());
    for (size_t i = 0; i < r.size(); ++i) {
      ref->push_back(static_cast<double>(r[i]) / nr);
      cur->push_back(static_cast<double>(c[i]) / nc);
    }
    return;
  }
  const KeyedCounts k = UnionCounts(cat_ref, cat_cur);
  *ref = Shares(k.reference, static_cast<double>(cat_ref.size()));
  *cur = Shares(k.current, static_cast<double>(cat_cur.size()));
}

void NotCompared(ColumnDrift& c, std::string note) {
  c.method = "none";
  c.compared = false;
  c.note = std::move(note);
}

// The finite values of a sorted column: infinities and NaN sit at its ends.
std::span<const double> FiniteValues(std::span<const double> sorted) {
  size_t lo = 0, hi = sorted.size();
  while (lo < hi && !std::isfinite(sorted[lo]))
    ++lo;
  while (hi > lo && !std::isfinite(sorted[hi - 1]))
    --hi;
  return sorted.subspan(lo, hi - lo);
}

// Sturges bins over both sides (at most max_bins, equal width) and each side's counts.
void ReportNumericHistogram(ColumnDrift& c, std::span<const double> reference,
                            std::span<const double> current, int max_bins) {
  auto edges = SturgesEdges(reference, current);
  if (static_cast<int>(edges.size()) - 1 > max_bins) {
    const double lo = edges.front(), hi = edges.back();
    edges.assign(static_cast<size_t>(max_bins) + 1, 0.0);
    for (int i = 0; i <= max_bins; ++i)
      edges[i] = lo + (hi - lo) * i / max_bins;
    edges.back() = hi;
  }
  c.reference_counts = HistogramCounts(reference, edges);
  c.current_counts = HistogramCounts(current, edges);
  c.edges = std::move(edges);
}

void ReportHistogram(ColumnDrift& c, const NumericSample* nr, const NumericSample* nc,
                     const CategoricalSample& cr, const CategoricalSample& cc, int max_bins) {
  if (nr) {
    auto edges = SturgesEdges(*nr, *nc);
    if (static_cast<int>(edges.size()) - 1 > max_bins) {
      const double lo = edges.front(), hi = edges.back();
      edges.assign(static_cast<size_t>(max_bins) + 1, 0.0);
      for (int i = 0; i <= max_bins; ++i)
        edges[i] = lo + (hi - lo) * i / max_bins;
      edges.back() = hi;
    }
    c.reference_counts = HistogramCounts(*nr, edges);
    c.current_counts = HistogramCounts(*nc, edges);
    c.edges = std::move(edges);
    return;
  }
  KeyedCounts k = UnionCounts(cr, cc);
  std::vector<size_t> order(k.keys.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    return k.reference[x] + k.current[x] > k.reference[y] + k.current[y];
  });
  constexpr size_t kMaxCategories = 20;
  std::int64_t other_r = 0, other_c = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    const size_t j = order[i];
    if (i < kMaxCategories) {
      c.categories.push_back(k.keys[j]);
      c.reference_counts.push_back(static_cast<std::int64_t>(k.reference[j]));
      c.current_counts.push_back(static_cast<std::int64_t>(k.current[j]));
    } else {
      other_r += static_cast<std::int64_t>(k.reference[j]);
      other_c += static_cast<std::int64_t>(k.current[j]);
    }
  }
  if (order.size() > kMaxCategories) {
    c.categories.push_back("(other)");
    c.reference_counts.push_back(other_r);
    c.current_counts.push_back(other_c);
  }
}

// Per feature value: rows and the sum of the label over them (rows with a label only).
struct LabelSums {
  std::map<std::string, std::pair<std::int64_t, double>> by_category;
  std::vector<double> values;  // numeric features: ascending
  std::vector<std::int64_t> rows;
  std::vector<double> sums;
};

base::Result<LabelSums> FetchLabelSums(warehouse::DuckDb& db, const std::string& from,
                                       const std::string& column, types::LogicalType type,
                                       bool numeric, const std::string& label) {
  const std::string c = QuoteIdentifier(column);
  const std::string l = "CAST(" + QuoteIdentifier(label) + " AS DOUBLE)";
  const std::string v = numeric ? AsDouble(c, type) : "CAST(" + c + " AS VARCHAR)";
  SLUICE_ASSIGN_OR_RETURN(
      types::Batch b, db.Query("SELECT v, count(*)::BIGINT AS n, sum(l) AS s FROM (SELECT " + v +
                               " AS v, " + l + " AS l FROM (" + from + ") AS t WHERE " + c +
                               " IS NOT NULL AND " + QuoteIdentifier(label) + " IS NOT NULL) AS u" +
                               (numeric ? " WHERE isfinite(v)" : "") + " GROUP BY v ORDER BY v"));
  LabelSums out;
  for (size_t r = 0; r < b.num_rows(); ++r) {
    const std::int64_t n = b.column(1).GetInt64(r);
    const double s = b.column(2).GetDouble(r);
    if (numeric) {
      out.values.push_back(b.column(0).GetDouble(r));
      out.rows.push_back(n);
      out.sums.push_back(s);
    } else {
      out.by_category[std::string(b.column(0).GetString(r))] = {n, s};
    }
  }
  return out;
}

// Label rates per bin of one feature: numeric features by the column's report edges (Sturges
// bins over both samples), categorical ones by value.
ConceptDrift CompareLabelRates(const ColumnDrift& c, const LabelSums& ref, const LabelSums& cur,
                               const DriftSettings& settings) {
  ConceptDrift out;
  out.name = c.name;
  out.threshold = settings.concept_threshold;
  std::map<std::string, std::pair<std::int64_t, double>> rb, cb;
  std::vector<std::string> order;
  if (!c.edges.empty()) {
    const auto& e = c.edges;
    auto label = [&](size_t k) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "[%.6g, %.6g%s", e[k], e[k + 1],
                    k + 2 == e.size() ? "]" : ")");
      return std::string(buf);
    };
    for (size_t k = 0; k + 1 < e.size(); ++k)
      order.push_back(label(k));
    auto fill = [&](const LabelSums& s, std::map<std::string, std::pair<std::int64_t, double>>& m) {
      for (size_t i = 0; i < s.values.size(); ++i) {
        auto it = std::upper_bound(e.begin(), e.end(), s.values[i]);
        size_t k = static_cast<size_t>(it - e.begin());
        k = k == 0 ? 0 : std::min(k - 1, e.size() - 2);
        auto& slot = m[order[k]];
        slot.first += s.rows[i];
        slot.second += s.sums[i];
      }
    };
    fill(ref, rb);
    fill(cur, cb);
  } else {
    rb = ref.by_category;
    cb = cur.by_category;
    std::map<std::string, bool> keys;
    for (const auto& [k, v] : rb)
      keys[k] = true;
    for (const auto& [k, v] : cb)
      keys[k] = true;
    for (const auto& [k, v] : keys)
      order.push_back(k);
  }
  for (const auto& key : order) {
    ConceptBin b;
    b.bin = key;
    if (auto it = rb.find(key); it != rb.end() && it->second.first > 0) {
      b.reference_rows = it->second.first;
      b.reference_rate = it->second.second / static_cast<double>(it->second.first);
    }
    if (auto it = cb.find(key); it != cb.end() && it->second.first > 0) {
      b.current_rows = it->second.first;
      b.current_rate = it->second.second / static_cast<double>(it->second.first);
    }
    if (b.reference_rows >= settings.concept_min_rows &&
        b.current_rows >= settings.concept_min_rows) {
      const double d = std::abs(*b.current_rate - *b.reference_rate);
      if (!out.statistic || d > *out.statistic) out.statistic = d;
    }
    out.bins.push_back(std::move(b));
  }
  out.drifted = out.statistic && *out.statistic >= settings.concept_threshold;
  return out;
}

nlohmann::ordered_json NumberOrNull(const std::optional<double>& v) {
  if (!v || !std::isfinite(*v)) return nullptr;
  return *v;
}

}  // namespace

base::Result<DriftSide> ResolveDriftSide(const std::string& text,
                                         const config::ProjectSpec& project, const lake::Lake& lake,
                                         std::chrono::system_clock::time_point now) {
  DriftSide side;
  side.label = text;
  if (text.empty()) return base::InvalidArgument("an empty dataset reference");
  const auto at = text.find('@');
  const auto bracket = text.find('[');
  if (at != std::string::npos || bracket != std::string::npos) {
    const size_t cut = std::min(at, bracket);
    const std::string dataset = text.substr(0, cut);
    SLUICE_ASSIGN_OR_RETURN(side.manifest, CurrentVersion(lake, dataset));
    side.time_column = EventTimeColumn(project, dataset);
    if (!side.time_column && side.manifest.kind == kServingLogKind) {
      side.time_column = kServingLogTimeColumn;
    }
    if (!side.time_column) {
      return base::InvalidArgument("'" + text + "': dataset '" + dataset +
                                   "' has no event time column (a source's event_time or a "
                                   "training set's timestamp) to select a time range by");
    }
    if (cut == at) {
      const std::string rest = text.substr(at + 1);
      if (rest.empty() || rest[0] != '-') {
        return base::InvalidArgument("'" + text + "': expected DATASET@-DURATION, e.g. " + dataset +
                                     "@-24h");
      }
      auto d = base::ParseDuration(rest.substr(1));
      if (!d.ok()) return d.status().WithContext("'" + text + "'");
      const auto now_us =
          std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
      side.from_micros = now_us - std::chrono::duration_cast<std::chrono::microseconds>(*d).count();
    } else {
      const std::string rest = text.substr(bracket + 1);
      const auto comma = rest.find(',');
      if (comma == std::string::npos || rest.empty() || rest.back() != ')') {
        return base::InvalidArgument("'" + text + "': expected DATASET[FROM,TO), e.g. " + dataset +
                                     "[2026-01-01,2026-01-02)");
      }
      const std::string from = rest.substr(0, comma);
      const std::string to = rest.substr(comma + 1, rest.size() - comma - 2);
      if (!from.empty()) {
        auto f = base::ParseTimestampMicros(from);
        if (!f.ok()) return f.status().WithContext("'" + text + "': FROM");
        side.from_micros = *f;
      }
      if (!to.empty()) {
        auto t = base::ParseTimestampMicros(to);
        if (!t.ok()) return t.status().WithContext("'" + text + "': TO");
        side.to_micros = *t;
      }
      if (side.from_micros && side.to_micros && *side.from_micros >= *side.to_micros) {
        return base::InvalidArgument("'" + text + "': FROM must be before TO");
      }
    }
    SLUICE_RETURN_IF_ERROR(ExpandServingLog(lake, side));
    return side;
  }
  auto current = lake.Current(text);
  if (current.ok() && current->has_value()) {
    side.manifest = std::move(**current);
    SLUICE_RETURN_IF_ERROR(ExpandServingLog(lake, side));
    return side;
  }
  auto version = lake.FindVersion(text);
  if (!version.ok()) {
    return base::NotFound("'" + text + "' is neither a dataset with versions nor a version id (" +
                          version.status().message() + ")");
  }
  side.manifest = std::move(*version);
  SLUICE_RETURN_IF_ERROR(ExpandServingLog(lake, side));
  return side;
}

DriftSettings SettingsFromProject(const config::ProjectSpec& project) {
  DriftSettings s;
  const auto& d = project.monitoring.drift;
  s.method = d.method;
  if (d.small_reference_rows) s.small_reference_rows = *d.small_reference_rows;
  if (d.drift_share) s.drift_share = *d.drift_share;
  if (d.ks) s.ks = *d.ks;
  if (d.chisquare) s.chisquare = *d.chisquare;
  if (d.ztest) s.ztest = *d.ztest;
  if (d.wasserstein) s.wasserstein = *d.wasserstein;
  if (d.jensenshannon) s.jensenshannon = *d.jensenshannon;
  if (d.psi) s.psi = *d.psi;
  return s;
}

base::Result<DriftReport> ComputeDrift(const lake::Lake& lake, const DriftSide& reference,
                                       const DriftSide& current, const DriftSettings& settings) {
  warehouse::DuckDb::Options db_options;
  db_options.threads = settings.threads;
  SLUICE_RETURN_IF_ERROR(CheckScannable(lake, reference.manifest));
  SLUICE_RETURN_IF_ERROR(CheckScannable(lake, current.manifest));
  SLUICE_ASSIGN_OR_RETURN(warehouse::DuckDb db, warehouse::DuckDb::Open(":memory:", db_options));
  const std::string ref_sql = SideSql(lake, reference);
  const std::string cur_sql = SideSql(lake, current);
  DriftReport report;
  report.reference = reference.label;
  report.current = current.label;
  report.reference_version = reference.manifest.id;
  report.current_version = current.manifest.id;
  report.share_threshold = settings.drift_share;
  std::vector<std::string> names = settings.columns;
  const DriftSide* log = current.manifest.kind == kServingLogKind     ? &current
                         : reference.manifest.kind == kServingLogKind ? &reference
                                                                      : nullptr;
  if (names.empty() && log) {
    // What was served is what is compared: a training set's keys, timestamp and label were
    // never served, so they are not "missing" from the log.
    for (const auto& f : log->manifest.schema.fields())
      names.push_back(f.name);
  } else if (names.empty()) {
    for (const auto& f : reference.manifest.schema.fields())
      names.push_back(f.name);
    for (const auto& f : current.manifest.schema.fields()) {
      if (!reference.manifest.schema.IndexOf(f.name)) names.push_back(f.name);
    }
  }
  // Each column is one task on a worker: both sides read (numbers sorted into the worker's reused
  // buffers, text counted per value) and compared at once, so only the columns in flight are in
  // memory. The report keeps the requested order.
  const size_t ref_expected =
      static_cast<size_t>(std::max<std::int64_t>(reference.manifest.rows.loaded, 0));
  const size_t cur_expected =
      static_cast<size_t>(std::max<std::int64_t>(current.manifest.rows.loaded, 0));
  std::vector<ColumnDrift> results(names.size());
  std::atomic<std::int64_t> ref_rows{-1}, cur_rows{-1};
  struct WorkerSamples {  // reused from column to column
    NumericSample reference, current;
  };
  std::vector<WorkerSamples> samples(
      static_cast<size_t>(ScanWorkers(settings.threads, names.size())));
  // Numbers (two reads and sorts) before text (two small GROUP BYs): the cheap columns fill
  // the end, so neither worker finishes long before the other.
  std::vector<size_t> order;
  for (const bool numbers : {true, false}) {
    for (size_t k = 0; k < names.size(); ++k) {
      const auto ri = reference.manifest.schema.IndexOf(names[k]);
      const auto ci = current.manifest.schema.IndexOf(names[k]);
      const bool numeric = ri && ci &&
                           IsNumericType(reference.manifest.schema.fields()[*ri].type) &&
                           IsNumericType(current.manifest.schema.fields()[*ci].type);
      if (numeric == numbers) order.push_back(k);
    }
  }
  const base::Status compared = ForEachColumn(
      db, names.size(), settings.threads,
      [&](ColumnReader& reader, int worker, size_t task) -> base::Status {
        const size_t k = order[task];
        const std::string& name = names[k];
        ColumnDrift c;
        c.name = name;
        const auto ri = reference.manifest.schema.IndexOf(name);
        const auto ci = current.manifest.schema.IndexOf(name);
        if (!ri || !ci) {
          NotCompared(c, std::string("missing in the ") +
                             (!ri && !ci ? "reference and the current data"
                                         : (!ri ? "reference" : "current data")));
          results[k] = std::move(c);
          return base::Status::Ok();
        }
        auto rtype = reference.manifest.schema.fields()[*ri].type;
        auto ctype = current.manifest.schema.fields()[*ci].type;
        const std::string q = QuoteIdentifier(name);
        // A time as text on one side (a serving log renders timestamps as ISO-8601 strings) is
        // compared as the other side's time, not as text that can never equal it.
        std::string rcol = q, ccol = q;
        if (IsTimeType(rtype) && ctype == types::LogicalType::kString) {
          ccol = "TRY_CAST(" + q + " AS " + TimeSqlType(rtype) + ")";
          ctype = rtype;
        } else if (IsTimeType(ctype) && rtype == types::LogicalType::kString) {
          rcol = "TRY_CAST(" + q + " AS " + TimeSqlType(ctype) + ")";
          rtype = ctype;
        }
        const bool numeric = IsNumericType(rtype) && IsNumericType(ctype);
        c.type = numeric ? "numeric" : "categorical";
        const NumericSample* nr = nullptr;
        const NumericSample* nc = nullptr;
        std::span<const double> rs, cs;  // numbers: the finite values, sorted, with repeats
        CategoricalSample cr, cc;
        if (numeric) {
          auto sorted = reader.ReadSorted(ref_sql, AsDouble(rcol, rtype), ref_expected, 0);
          if (!sorted.ok()) return sorted.status().WithContext("reading " + reference.label);
          ref_rows = sorted->rows;
          rs = FiniteValues(sorted->values);
          sorted = reader.ReadSorted(cur_sql, AsDouble(ccol, ctype), cur_expected, 1);
          if (!sorted.ok()) return sorted.status().WithContext("reading " + current.label);
          cur_rows = sorted->rows;
          cs = FiniteValues(sorted->values);
          c.reference_values = static_cast<std::int64_t>(rs.size());
          c.current_values = static_cast<std::int64_t>(cs.size());
        } else {
          auto r = reader.CountValues(ref_sql, "CAST(" + q + " AS VARCHAR)");
          if (!r.ok()) return r.status().WithContext("reading " + reference.label);
          auto v = reader.CountValues(cur_sql, "CAST(" + q + " AS VARCHAR)");
          if (!v.ok()) return v.status().WithContext("reading " + current.label);
          ref_rows = r->rows;
          cur_rows = v->rows;
          cr = AsSample(std::move(*r));
          cc = AsSample(std::move(*v));
          c.reference_values = cr.size();
          c.current_values = cc.size();
        }
        if (c.reference_values == 0 || c.current_values == 0) {
          NotCompared(c, std::string("no non-null values in the ") +
                             (c.reference_values == 0 && c.current_values == 0
                                  ? "reference and the current data"
                                  : (c.reference_values == 0 ? "reference" : "current data")));
          results[k] = std::move(c);
          return base::Status::Ok();
        }
        if (numeric) {
          ReportNumericHistogram(c, rs, cs, settings.max_histogram_bins);
        } else {
          ReportHistogram(c, nullptr, nullptr, cr, cc, settings.max_histogram_bins);
        }
        // Numbers as distinct values with counts only for the tests that need them (Wasserstein,
        // the common one, runs on the sorted values themselves).
        auto need_samples = [&] {
          if (nr != nullptr) return;
          WorkerSamples& w = samples[static_cast<size_t>(worker)];
          ToSample(rs, w.reference);
          ToSample(cs, w.current);
          nr = &w.reference;
          nc = &w.current;
        };
        // Numbers as categories (text keys) only for the tests that need them: building them for
        // millions of distinct values costs more than every statistic together.
        std::optional<KeyedCounts> keyed;
        auto keys = [&]() -> const KeyedCounts& {
          if (!keyed) {
            if (numeric && cr.values.empty()) {
              need_samples();
              cr = AsCategories(*nr);
              cc = AsCategories(*nc);
            }
            keyed = UnionCounts(cr, cc);
          }
          return *keyed;
        };
        // Numbers: counted to 6, all the rule below distinguishes (the ztest note counts all).
        const size_t n_values = numeric ? UnionSize(rs, cs, 6) : keys().keys.size();
        DriftMethod method = settings.method;
        if (method == DriftMethod::kAuto) {
          if (c.reference_values <= settings.small_reference_rows) {
            if (numeric && n_values > 5) {
              method = DriftMethod::kKs;
            } else {
              method = n_values > 2 ? DriftMethod::kChiSquare : DriftMethod::kZTest;
            }
          } else {
            method =
                numeric && n_values > 5 ? DriftMethod::kWasserstein : DriftMethod::kJensenShannon;
          }
        }
        c.method = std::string(config::Name(method));
        c.compared = true;
        switch (method) {
          case DriftMethod::kKs:
          case DriftMethod::kWasserstein: {
            if (!numeric) {
              NotCompared(c, c.method + " compares numeric columns; this one is categorical");
              break;
            }
            if (method == DriftMethod::kKs) {
              need_samples();
              const TestResult r = KsTwoSample(*nr, *nc);
              c.statistic = r.statistic;
              c.p_value = r.p_value;
              c.threshold = settings.ks;
              c.drifted = *r.p_value < settings.ks;
            } else {
              // Evidently: the distance in units of the reference's standard deviation (at least
              // 0.001, so a constant reference still gives a finite number).
              const double norm = std::max(PopulationStddev(rs), 0.001);
              c.statistic = WassersteinDistance(rs, cs) / norm;
              c.threshold = settings.wasserstein;
              c.drifted = *c.statistic >= settings.wasserstein;
            }
            break;
          }
          case DriftMethod::kChiSquare: {
            const double k_norm =
                static_cast<double>(c.current_values) / static_cast<double>(c.reference_values);
            std::vector<double> expected(keys().reference.size());
            for (size_t i = 0; i < expected.size(); ++i)
              expected[i] = keys().reference[i] * k_norm;
            const TestResult r = ChiSquare(keys().current, expected);
            c.statistic = r.statistic;
            c.p_value = r.p_value;
            c.threshold = settings.chisquare;
            c.drifted = *r.p_value < settings.chisquare;
            break;
          }
          case DriftMethod::kZTest: {
            if (n_values > 2) {
              NotCompared(c, "ztest compares columns with at most two values; this one has " +
                                 std::to_string(numeric ? UnionSize(rs, cs, rs.size() + cs.size())
                                                        : n_values));
              break;
            }
            const TestResult r =
                ProportionZTest(static_cast<std::int64_t>(keys().reference[0]), c.reference_values,
                                static_cast<std::int64_t>(keys().current[0]), c.current_values);
            c.statistic = r.statistic;
            c.p_value = r.p_value;
            c.threshold = settings.ztest;
            c.drifted = *r.p_value < settings.ztest;
            break;
          }
          case DriftMethod::kJensenShannon:
          case DriftMethod::kPsi: {
            std::vector<double> ref, cur;
            if (numeric) need_samples();
            if (numeric && nr->values.size() <= 20) keys();  // one bin per value: the text keys
            BinnedShares(nr ? &*nr : nullptr, nc ? &*nc : nullptr, cr, cc, &ref, &cur);
            if (method == DriftMethod::kJensenShannon) {
              c.statistic = JensenShannonDistance(ref, cur);
              c.threshold = settings.jensenshannon;
              c.drifted = *c.statistic >= settings.jensenshannon;
            } else {
              c.statistic = PopulationStabilityIndex(FillZeroShares(ref), FillZeroShares(cur));
              c.threshold = settings.psi;
              c.drifted = *c.statistic >= settings.psi;
            }
            break;
          }
          case DriftMethod::kAuto:
            break;
        }
        results[k] = std::move(c);
        return base::Status::Ok();
      },
      [&](size_t task) { return names[order[task]]; });
  if (!compared.ok()) return compared;
  for (auto* rows : {&ref_rows, &cur_rows}) {
    if (*rows >= 0) continue;
    // Nothing was read on this side (no column in common): count its rows.
    auto n = db.QueryScalarInt64("SELECT count(*) FROM (" +
                                 (rows == &ref_rows ? ref_sql : cur_sql) + ") AS t");
    if (!n.ok())
      return n.status().WithContext("reading " +
                                    (rows == &ref_rows ? reference.label : current.label));
    *rows = *n;
  }
  report.reference_rows = ref_rows;
  report.current_rows = cur_rows;
  for (auto& c : results)
    report.columns.push_back(std::move(c));
  if (settings.label) {
    const std::string& label = *settings.label;
    const auto rl = reference.manifest.schema.IndexOf(label);
    const auto cl = current.manifest.schema.IndexOf(label);
    auto numeric_label = [](types::LogicalType t) {
      return t == types::LogicalType::kInt64 || t == types::LogicalType::kDouble ||
             t == types::LogicalType::kBool;
    };
    if (!rl || !cl || !numeric_label(reference.manifest.schema.fields()[*rl].type) ||
        !numeric_label(current.manifest.schema.fields()[*cl].type)) {
      return base::InvalidArgument("--label '" + label +
                                   "' must be a numeric or bool column of both the reference and "
                                   "the current data");
    }
    report.label = label;
    for (const auto& c : report.columns) {
      if (!c.compared || c.name == label) continue;
      const auto ri = *reference.manifest.schema.IndexOf(c.name);
      const auto ci = *current.manifest.schema.IndexOf(c.name);
      const bool numeric = c.type == "numeric";
      SLUICE_ASSIGN_OR_RETURN(
          LabelSums rs,
          FetchLabelSums(db, ref_sql, c.name, reference.manifest.schema.fields()[ri].type, numeric,
                         label));
      SLUICE_ASSIGN_OR_RETURN(
          LabelSums cs, FetchLabelSums(db, cur_sql, c.name,
                                       current.manifest.schema.fields()[ci].type, numeric, label));
      report.concept_drift.push_back(CompareLabelRates(c, rs, cs, settings));
    }
  }
  for (const auto& c : report.columns) {
    if (!c.compared) continue;
    ++report.compared_columns;
    if (c.drifted) ++report.drifted_columns;
  }
  report.drift_share = report.compared_columns == 0
                           ? 0.0
                           : static_cast<double>(report.drifted_columns) / report.compared_columns;
  report.dataset_drift = report.compared_columns > 0 && report.drift_share >= settings.drift_share;
  return report;
}

std::string DriftToJson(const DriftReport& r) {
  nlohmann::ordered_json j;
  j["reference"] = r.reference;
  j["current"] = r.current;
  j["reference_version"] = r.reference_version;
  j["current_version"] = r.current_version;
  j["reference_rows"] = r.reference_rows;
  j["current_rows"] = r.current_rows;
  nlohmann::ordered_json cols = nlohmann::ordered_json::array();
  for (const auto& c : r.columns) {
    nlohmann::ordered_json o;
    o["name"] = c.name;
    o["type"] = c.type.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(c.type);
    o["method"] = c.method;
    o["statistic"] = NumberOrNull(c.statistic);
    o["p_value"] = NumberOrNull(c.p_value);
    o["threshold"] = c.compared ? nlohmann::ordered_json(c.threshold) : nlohmann::ordered_json();
    o["drifted"] = c.drifted;
    o["reference_values"] = c.reference_values;
    o["current_values"] = c.current_values;
    if (!c.note.empty()) o["note"] = c.note;
    cols.push_back(std::move(o));
  }
  j["columns"] = std::move(cols);
  j["compared_columns"] = r.compared_columns;
  j["drifted_columns"] = r.drifted_columns;
  j["drift_share"] = r.drift_share;
  j["share_threshold"] = r.share_threshold;
  j["dataset_drift"] = r.dataset_drift;
  if (r.label) {
    nlohmann::ordered_json label_rates;
    label_rates["label"] = *r.label;
    nlohmann::ordered_json cols = nlohmann::ordered_json::array();
    for (const auto& c : r.concept_drift) {
      nlohmann::ordered_json o;
      o["name"] = c.name;
      o["statistic"] = NumberOrNull(c.statistic);
      o["threshold"] = c.threshold;
      o["drifted"] = c.drifted;
      nlohmann::ordered_json bins = nlohmann::ordered_json::array();
      for (const auto& b : c.bins) {
        bins.push_back({{"bin", b.bin},
                        {"reference_rows", b.reference_rows},
                        {"current_rows", b.current_rows},
                        {"reference_rate", NumberOrNull(b.reference_rate)},
                        {"current_rate", NumberOrNull(b.current_rate)}});
      }
      o["bins"] = std::move(bins);
      cols.push_back(std::move(o));
    }
    label_rates["columns"] = std::move(cols);
    j["concept"] = std::move(label_rates);
  }
  return j.dump(2);
}

}  // namespace sluice::quality
