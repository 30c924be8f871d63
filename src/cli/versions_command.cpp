#include <algorithm>
#include <cstdio>

#include "base/json_text.h"
#include "cli/commands.h"
#include "cli/exit_code.h"
#include "cli/progress_meter.h"
#include "cli/project_context.h"
#include "connectors/ingest.h"
#include "lake/manifest.h"
#include "warehouse/duckdb_database.h"

namespace sluice::cli {

namespace {

std::uint64_t DataBytes(const lake::Manifest& m) {
  std::uint64_t bytes = 0;
  for (const auto& o : m.outputs) {
    if (o.name.rfind("data", 0) == 0) bytes += o.bytes;
  }
  return bytes;
}

}  // namespace

int RunVersions(const VersionsOptions& options) {
  int code = kExitOk;
  auto project = OpenProject(options.project, &code);
  if (!project) return code;
  std::vector<std::string> datasets;
  if (options.dataset.empty()) {
    auto all = project->lake->Datasets();
    if (!all.ok()) return ReportFailure(all.status());
    datasets = *all;
  } else {
    datasets.push_back(options.dataset);
  }
  // Everything is read before anything is printed, so a failure never leaves half a JSON
  // document on stdout.
  std::vector<lake::Manifest> rows;
  for (const auto& d : datasets) {
    auto history = project->lake->History(d);
    if (!history.ok()) return ReportFailure(history.status());
    if (history->empty() && !options.dataset.empty()) {
      return ReportFailure(base::InvalidArgument("dataset '" + d + "' has no versions"));
    }
    rows.insert(rows.end(), std::make_move_iterator(history->rbegin()),
                std::make_move_iterator(history->rend()));
  }
  if (options.json) {
    std::string out = "[";
    for (size_t i = 0; i < rows.size(); ++i) {
      const auto& m = rows[i];
      out += i ? ",\n" : "";
      out += "{\"dataset\":" + base::JsonQuoted(m.dataset) + ",\"id\":" + base::JsonQuoted(m.id) +
             ",\"kind\":" + base::JsonQuoted(m.kind) +
             ",\"created_at\":" + base::JsonQuoted(m.created_at) +
             ",\"rows\":" + std::to_string(m.rows.loaded) +
             ",\"quarantined\":" + std::to_string(m.rows.quarantined) +
             ",\"data_bytes\":" + std::to_string(DataBytes(m)) + "}";
    }
    std::printf("%s]\n", out.c_str());
    return kExitOk;
  }
  int width = 16;  // the dataset column fits the longest name (transform artifacts are long)
  for (const auto& m : rows)
    width = std::max(width, static_cast<int>(m.dataset.size()));
  std::printf("%-*s %-12s %-27s %12s %12s %12s\n", width, "DATASET", "VERSION", "CREATED", "ROWS",
              "BYTES", "QUARANTINED");
  for (const auto& m : rows) {
    std::printf("%-*s %-12s %-27s %12lld %12s %12lld\n", width, m.dataset.c_str(),
                m.id.substr(0, 12).c_str(), m.created_at.c_str(),
                static_cast<long long>(m.rows.loaded), HumanBytes(DataBytes(m)).c_str(),
                static_cast<long long>(m.rows.quarantined));
  }
  return kExitOk;
}

int RunShow(const ShowOptions& options) {
  int code = kExitOk;
  auto project = OpenProject(options.project, &code);
  if (!project) return code;
  auto manifest = project->lake->FindVersion(options.version);
  if (!manifest.ok()) return ReportFailure(manifest.status());
  std::printf("%s\n", lake::ToPrettyJson(*manifest).c_str());
  if (options.quarantine > 0) {
    for (const auto& o : manifest->outputs) {
      if (o.name != "quarantine") continue;
      auto db = warehouse::DuckDb::Open(":memory:");
      if (!db.ok()) return ReportFailure(db.status());
      auto rows = db->Query("SELECT file, line, record, reason, raw FROM read_parquet(" +
                            warehouse::QuoteLiteral(project->lake->ObjectPath(o.sha256).string()) +
                            ") LIMIT " + std::to_string(options.quarantine));
      if (!rows.ok()) return ReportFailure(rows.status());
      std::printf("\nquarantined rows (first %zu of %lld):\n", rows->num_rows(),
                  static_cast<long long>(o.rows));
      for (size_t r = 0; r < rows->num_rows(); ++r) {
        connectors::QuarantinedRow q;
        q.file = std::string(rows->column(0).GetString(r));
        if (rows->column(1).IsValid(r)) q.line = rows->column(1).GetInt64(r);
        if (rows->column(2).IsValid(r)) q.record = rows->column(2).GetInt64(r);
        std::printf("  %s: %s\n    %s\n", connectors::Where(q).c_str(),
                    connectors::Printable(rows->column(3).GetString(r)).c_str(),
                    rows->column(4).IsValid(r)
                        ? connectors::Printable(rows->column(4).GetString(r)).c_str()
                        : "");
      }
    }
  }
  return kExitOk;
}

}  // namespace sluice::cli
