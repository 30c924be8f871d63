#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "config/project.h"
#include "lake/lake.h"
#include "registry/registry.h"

namespace sluice::connectors {

// One quarantined row, as shown to people (the full list is in the version's quarantine file).
struct QuarantinedRow {
  std::string file;
  std::optional<std::int64_t> line;    // 1-based line in the file (CSV reader errors, JSON Lines)
  std::optional<std::int64_t> record;  // 1-based data record/row number, when the line is unknown
  std::string column;                  // empty when the problem is the whole row
  std::string reason;
  std::string raw;  // the row's text as read (CSV line, JSON line, or the row's values)
};

// "data/tx.csv:12" or "data/tx.csv record 7".
std::string Where(const QuarantinedRow& row);
// Quarantined text (a reason, a raw line) as printed on a terminal: a NUL byte as \0 and other
// control characters but tab as \xNN, so nothing after them is lost or garbles the screen.
std::string Printable(std::string_view text);

// Reports progress of the current stage: what is happening and how far (0..1, or < 0 unknown).
using IngestProgress = std::function<void(const std::string& stage, double fraction)>;

struct IngestContext {
  const config::ProjectSpec& project;
  lake::Lake& lake;
  registry::Registry& registry;
  base::Clock& clock;
  int threads = 0;  // DuckDB threads; 0 = all cores
  IngestProgress progress;
  // JSON Lines files whose lines are all objects are read by read_json straight into columns
  // (see ingest.cpp); false always uses the per-line reader, for tests that compare the two.
  bool direct_json = true;
  // New input files last changed at least this long ago are read in place while a copy of them
  // is hashed and stored, and checked unchanged afterwards; younger ones are copied first and
  // the copy is read (see ingest.cpp). Tests set 0 to take the first way with fresh files.
  double input_settle_seconds = 2;
};

struct IngestReport {
  std::string source;
  lake::Manifest manifest;  // the published version, or the current one when unchanged
  bool created = false;     // false: inputs and definition unchanged, nothing was written
  lake::RowCounts fresh;    // rows this run read (an incremental version also holds older ones)
  std::vector<std::string> warnings;
  std::vector<QuarantinedRow> samples;  // up to kQuarantineSamples quarantined rows
  std::int64_t run_id = 0;
  double seconds = 0;
};

inline constexpr int kQuarantineSamples = 5;

// Lands one source in the lake: extracts it, applies its schema contract, quarantines bad rows
// with reasons, and publishes an immutable version (or finds nothing changed). Fails without
// publishing when the source's shape changed or the error budget is exceeded. Every run is
// recorded in the registry, failed ones included.
base::Result<IngestReport> Ingest(const config::SourceSpec& source, const IngestContext& context);

// The columns and SQL types a version's data files hold, for reading it back:
// "SELECT <columns> FROM read_parquet([...])".
std::string DatasetSelectSql(const lake::Lake& lake, const lake::Manifest& manifest);

}  // namespace sluice::connectors
