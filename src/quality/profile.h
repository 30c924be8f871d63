#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "lake/lake.h"
#include "types/logical_type.h"

// Statistical profiles of dataset versions: per column counts, moments, quantiles, a histogram
// and top values, computed from one read of the version's columns (quality/column_scan.h),
// stored as JSON beside the version's manifest in the lake.
namespace sluice::quality {

inline constexpr std::array<double, 7> kQuantileLevels = {0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99};

struct HistogramBin {
  double lower = 0;
  double upper = 0;  // bins are [lower, upper), the last one closed
  std::int64_t count = 0;
  bool operator==(const HistogramBin&) const = default;
};

struct TopValue {
  std::string value;
  std::int64_t count = 0;
  bool operator==(const TopValue&) const = default;
};

struct ColumnProfile {
  std::string name;
  types::LogicalType type = types::LogicalType::kString;
  std::int64_t count = 0;     // non-null values
  std::int64_t nulls = 0;     // count + nulls == the profile's rows
  std::int64_t distinct = 0;  // distinct non-null values
  // Numeric columns (int64, double; bool as 0/1). Unset when there is no finite value to report.
  std::optional<double> mean;
  std::optional<double> stddev;  // sample standard deviation (n - 1)
  std::optional<double> min;
  std::optional<double> max;
  std::vector<double> quantiles;        // at kQuantileLevels, linear interpolation (numpy's)
  std::vector<HistogramBin> histogram;  // equal-width bins from min to max
  // Text, timestamp and date columns: the extremes as text.
  std::optional<std::string> min_text;
  std::optional<std::string> max_text;
  std::vector<TopValue> top;  // string and bool columns: most frequent first, ties by value
  bool operator==(const ColumnProfile&) const = default;
};

struct Profile {
  static constexpr int kFormatVersion = 1;
  std::string dataset;
  std::string version;  // the dataset version id
  std::int64_t rows = 0;
  std::vector<ColumnProfile> columns;
  bool operator==(const Profile&) const = default;

  const ColumnProfile* Find(std::string_view column) const;
};

struct ProfileOptions {
  int threads = 0;  // DuckDB threads; 0 = all cores
  int histogram_bins = 20;
  int top_values = 10;
};

// Whether values of this type get moments, quantiles and a histogram.
bool IsNumeric(types::LogicalType type);

// Whether the version's rows can be scanned: its Parquet data files are in the lake (a training
// set written only as CSV has none). FailedPrecondition naming the version otherwise.
base::Status CheckScannable(const lake::Lake& lake, const lake::Manifest& manifest);

// Scans the version's rows and computes its profile (no lake writes).
base::Result<Profile> ComputeProfile(const lake::Lake& lake, const lake::Manifest& manifest,
                                     const ProfileOptions& options = {});

// The stored profile of a version, or nullopt when it has none (older versions).
base::Result<std::optional<Profile>> ReadStoredProfile(const lake::Lake& lake,
                                                       const lake::Manifest& manifest);
// Writes the profile beside the manifest (atomically; replaces an earlier one).
base::Status StoreProfile(const lake::Lake& lake, const lake::Manifest& manifest,
                          const Profile& profile);
// The stored profile, or a new one computed and stored (`*computed` says which).
base::Result<Profile> EnsureProfile(const lake::Lake& lake, const lake::Manifest& manifest,
                                    const ProfileOptions& options = {}, bool* computed = nullptr);

// JSON: {"format_version", "dataset", "version", "rows", "columns": [{"name", "type", "count",
// "nulls", "distinct", "mean", "stddev", "min", "max", "quantiles": {"p1"...}, "histogram",
// "top"}]}. Missing and non-finite numbers are null, never NaN.
std::string ProfileToJson(const Profile& profile);
base::Result<Profile> ParseProfile(std::string_view json);

// Combines the profiles of two disjoint parts of one dataset (segments of a stream, say) without
// rescanning. Exact: rows, count, nulls, min, max, mean, stddev (Chan's pairwise update, up to
// rounding), histograms whose bins coincide. Approximate: distinct (the larger of the two, a lower
// bound), quantiles (interpolated in the merged histogram), histograms with different bins (each
// bin's count spread uniformly into the new bins) and top values (counts of values in only one
// top list are lower bounds). Columns are matched by name.
Profile MergeProfiles(const Profile& a, const Profile& b);

// The data files `version` adds to `parent`'s (a stream segment's own file), when it keeps every
// one of the parent's files; nullopt when it replaces them (a new snapshot). Without a parent,
// all of the version's files.
std::optional<std::vector<std::filesystem::path>> AddedDataFiles(const lake::Lake& lake,
                                                                 const lake::Manifest& version,
                                                                 const lake::Manifest* parent);

enum class ProfilePeriod { kHour, kDay };

struct PeriodProfile {
  std::string period;                 // the UTC hour or day it starts, "2026-01-01T10:00:00Z"
  std::vector<std::string> versions;  // the segments merged into it, oldest first
  Profile profile;                    // its `version` is the last segment's
};

// An append-only dataset's (a stream's) profile per hour or day of landing time (each version's
// created_at), merged from the profiles of each segment's own rows: a segment is scanned once and
// its profile stored beside its manifest (".segment.profile.json"); later calls read only those.
// Merged figures are exact or approximate as MergeProfiles says. FailedPrecondition when a
// version replaces its parent's files (periods of snapshots would count rows twice).
base::Result<std::vector<PeriodProfile>> ProfilesByPeriod(const lake::Lake& lake,
                                                          const std::string& dataset,
                                                          ProfilePeriod period,
                                                          const ProfileOptions& options = {});

}  // namespace sluice::quality
