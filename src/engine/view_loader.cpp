#include "engine/view_loader.h"

#include <algorithm>
#include <limits>
#include <thread>

#include "base/workers.h"
#include "connectors/ingest.h"

namespace sluice::engine {

using types::LogicalType;
using warehouse::QuoteIdentifier;

LogicalType FromDuckDbType(const std::string& t) {
  if (t == "BOOLEAN") return LogicalType::kBool;
  if (t == "TINYINT" || t == "SMALLINT" || t == "INTEGER" || t == "BIGINT" || t == "UTINYINT" ||
      t == "USMALLINT" || t == "UINTEGER" || t == "HUGEINT" || t == "UBIGINT") {
    return LogicalType::kInt64;
  }
  if (t == "FLOAT" || t == "DOUBLE" || t.rfind("DECIMAL", 0) == 0) return LogicalType::kDouble;
  if (t.rfind("TIMESTAMP", 0) == 0) return LogicalType::kTimestamp;
  if (t == "DATE") return LogicalType::kDate;
  return LogicalType::kString;
}

base::Result<FeatureViewPlan> LoadPlan(const config::ProjectSpec& project,
                                       const config::FeatureViewSpec& view, const lake::Lake& lake,
                                       const lake::Manifest& source, warehouse::DuckDb& db) {
  const std::string src_sql = connectors::DatasetSelectSql(lake, source);
  std::vector<std::pair<std::string, LogicalType>> expr_types;
  for (const auto& c : view.columns) {
    auto described = db.Query("DESCRIBE SELECT (" + c.expr + ") FROM (" + src_sql + ")");
    if (!described.ok() || described->num_rows() == 0) {
      return base::InvalidArgument("feature view '" + view.name + "', column '" + c.name +
                                   "': " + described.status().message());
    }
    expr_types.emplace_back(c.name, FromDuckDbType(std::string(described->column(1).GetString(0))));
  }
  return PlanFeatureView(project, view, source.schema, expr_types);
}

namespace {

// EventsSql over `from_sql`, a relation with the source's columns.
std::string EventsSqlFrom(const FeatureViewPlan& plan, const std::string& from_sql, int partition,
                          int partitions) {
  std::string keys;
  for (size_t k = 0; k < plan.entity_keys.size(); ++k) {
    keys += (k ? ", " : "") + QuoteIdentifier(plan.entity_keys[k]);
  }
  std::string inputs;
  for (const auto& in : plan.inputs) {
    inputs += ", CAST(" + in.sql + " AS " + std::string(warehouse::DuckDbTypeName(in.type)) +
              ") AS " + QuoteIdentifier(in.name);
  }
  const std::string part = partitions > 1 ? "hash(" + keys + ") % " + std::to_string(partitions) +
                                                " = " + std::to_string(partition)
                                          : "true";
  return "SELECT " + keys + ", CAST(" + QuoteIdentifier(plan.event_time) + " AS TIMESTAMP)" +
         inputs + " FROM (" + from_sql + ") WHERE (" + plan.filter.value_or("true") + ") AND " +
         part;
}

// Rows [first, end) of one Parquet file of the source: row groups outside the range are
// skipped by DuckDB (file_row_number filters prune them).
struct FileRange {
  std::string file;
  std::int64_t first = 0;
  std::int64_t end = 0;
};

std::string FileRangeSql(const lake::Manifest& source, const FileRange& r) {
  std::string columns;
  for (const auto& f : source.schema.fields()) {
    columns += (columns.empty() ? "" : ", ") + QuoteIdentifier(f.name);
  }
  return "SELECT " + columns + " FROM read_parquet(" + warehouse::QuoteLiteral(r.file) +
         ", file_row_number = true) WHERE file_row_number >= " + std::to_string(r.first) +
         " AND file_row_number < " + std::to_string(r.end);
}

// The source's rows cut at row-group boundaries into at most `workers` runs of about equal
// rows, each a list of file ranges in source order; fewer when the source is small.
base::Result<std::vector<std::vector<FileRange>>> CutRowGroups(warehouse::DuckDb& db,
                                                               const lake::Lake& lake,
                                                               const lake::Manifest& source,
                                                               int workers, std::int64_t min_rows) {
  struct Group {
    std::string file;
    std::int64_t first = 0;
    std::int64_t rows = 0;
  };
  std::vector<Group> groups;
  std::int64_t total = 0;
  for (const auto& out : source.outputs) {
    if (out.name != "data") continue;
    const std::string file = lake.ObjectPath(out.sha256).string();
    SLUICE_ASSIGN_OR_RETURN(
        types::Batch sizes,
        db.Query("SELECT row_group_num_rows FROM parquet_metadata(" +
                 warehouse::QuoteLiteral(file) + ") WHERE column_id = 0 ORDER BY row_group_id"));
    std::int64_t first = 0;
    for (size_t g = 0; g < sizes.num_rows(); ++g) {
      const std::int64_t rows = sizes.column(0).GetInt64(g);
      groups.push_back({file, first, rows});
      first += rows;
      total += rows;
    }
  }
  workers = static_cast<int>(
      std::clamp<std::int64_t>(std::min<std::int64_t>(total / std::max<std::int64_t>(1, min_rows),
                                                      static_cast<std::int64_t>(groups.size())),
                               1, workers));
  std::vector<std::vector<FileRange>> runs(static_cast<size_t>(workers));
  std::int64_t before = 0;
  for (const Group& g : groups) {
    // A row group goes to the run its first row falls in, had the rows been cut evenly.
    const auto w = static_cast<size_t>(before * workers / std::max<std::int64_t>(1, total));
    std::vector<FileRange>& run = runs[w];
    if (!run.empty() && run.back().file == g.file && run.back().end == g.first) {
      run.back().end += g.rows;
    } else {
      run.push_back({g.file, g.first, g.first + g.rows});
    }
    before += g.rows;
  }
  runs.erase(std::remove_if(runs.begin(), runs.end(), [](const auto& r) { return r.empty(); }),
             runs.end());
  return runs;
}

}  // namespace

std::string EventsSql(const FeatureViewPlan& plan, const lake::Lake& lake,
                      const lake::Manifest& source, int partition, int partitions) {
  return EventsSqlFrom(plan, connectors::DatasetSelectSql(lake, source), partition, partitions);
}

std::string EventsSqlOver(const FeatureViewPlan& plan, const std::string& from_sql) {
  return EventsSqlFrom(plan, from_sql, 0, 1);
}

std::optional<types::Batch> EventsWithoutSql(const FeatureViewPlan& plan,
                                             const types::Batch& rows) {
  if (plan.filter) return std::nullopt;
  const types::Schema& schema = rows.schema();
  // The column of `rows` named `name` when it holds `type` values, read as is.
  auto plain = [&](const std::string& name,
                   std::optional<types::LogicalType> type) -> std::optional<size_t> {
    auto idx = schema.IndexOf(name);
    if (!idx || (type && schema.field(*idx).type != *type)) return std::nullopt;
    return *idx;
  };
  std::vector<size_t> picked;
  std::vector<types::Field> fields;
  for (const std::string& key : plan.entity_keys) {
    auto idx = plain(key, std::nullopt);
    if (!idx) return std::nullopt;
    picked.push_back(*idx);
    fields.push_back({key, schema.field(*idx).type, true});
  }
  auto ts = plain(plan.event_time, types::LogicalType::kTimestamp);
  if (!ts) return std::nullopt;
  picked.push_back(*ts);
  // DuckDB's name for the unaliased cast (it quotes names that need it; nothing reads the
  // events' columns by name).
  fields.push_back(
      {"CAST(" + plan.event_time + " AS TIMESTAMP)", types::LogicalType::kTimestamp, true});
  for (const InputColumn& in : plan.inputs) {
    if (in.sql != "\"" + in.name + "\"" || in.name.find('"') != std::string::npos) {
      return std::nullopt;
    }
    auto idx = plain(in.name, in.type);
    if (!idx) return std::nullopt;
    picked.push_back(*idx);
    fields.push_back({in.name, in.type, true});
  }
  auto out_schema = types::Schema::Make(std::move(fields));
  if (!out_schema.ok()) return std::nullopt;  // a name twice: DuckDB's relation decides
  types::Batch events(std::move(*out_schema));
  for (size_t c = 0; c < picked.size(); ++c)
    events.column(c).AppendColumn(rows.column(picked[c]));
  return events;
}

base::Result<types::Batch> ScanEvents(warehouse::DuckDb& db, std::string_view session_sql,
                                      const FeatureViewPlan& plan, const lake::Lake& lake,
                                      const lake::Manifest& source, int partition, int partitions,
                                      size_t expected_rows, int threads,
                                      std::int64_t min_rows_per_connection) {
  if (threads <= 0) threads = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  std::vector<std::vector<FileRange>> runs;
  if (threads > 1) {
    SLUICE_ASSIGN_OR_RETURN(runs, CutRowGroups(db, lake, source, threads, min_rows_per_connection));
  }
  if (runs.size() <= 1) {
    return db.QueryStreaming(EventsSql(plan, lake, source, partition, partitions), expected_rows);
  }
  // Worker w reads its run's ranges in order, each into a Batch of its own; worker 0's first
  // Batch is reserved for all the rows and the others are appended to it in order.
  const size_t workers = runs.size();
  std::vector<warehouse::DuckDb> connections;
  for (size_t w = 0; w < workers; ++w) {
    SLUICE_ASSIGN_OR_RETURN(warehouse::DuckDb conn, db.Connect());
    SLUICE_RETURN_IF_ERROR(conn.Execute(session_sql));
    connections.push_back(std::move(conn));
  }
  // One DuckDB thread per connection: DuckDB's own workers would join in and oversubscribe
  // the cores the connections already keep busy.
  SLUICE_ASSIGN_OR_RETURN(const int db_threads, db.SwapThreads(1));
  std::vector<std::vector<types::Batch>> pieces(workers);
  std::vector<base::Status> statuses(workers);
  auto work = [&](size_t w) {
    for (const FileRange& r : runs[w]) {
      const size_t reserve =
          w == 0 && pieces[w].empty() ? expected_rows : static_cast<size_t>(r.end - r.first);
      auto piece = connections[w].QueryStreaming(
          EventsSqlFrom(plan, FileRangeSql(source, r), partition, partitions), reserve);
      if (!piece.ok()) {
        statuses[w] = piece.status();
        return;
      }
      pieces[w].push_back(std::move(*piece));
    }
  };
  base::RunWorkers(static_cast<int>(workers), [&](int w) { work(static_cast<size_t>(w)); });
  SLUICE_RETURN_IF_ERROR(db.SwapThreads(db_threads).status());
  // The error a single scan would have met first: the lowest worker's.
  for (base::Status& s : statuses) {
    if (!s.ok()) return std::move(s);
  }
  const types::Batch& first = pieces[0][0];
  for (const auto& run : pieces) {
    for (const auto& piece : run) {
      if (piece.schema().ToString() != first.schema().ToString()) {
        return base::Internal("the events of '" + source.dataset +
                              "' read in ranges have differing types: " +
                              first.schema().ToString() + " vs " + piece.schema().ToString());
      }
    }
  }
  for (size_t c = 0; c < first.num_columns(); ++c) {
    size_t bytes = 0;
    for (const auto& run : pieces) {
      for (const auto& piece : run)
        bytes += piece.column(c).string_bytes().size();
    }
    if (bytes > std::numeric_limits<std::uint32_t>::max()) {
      return base::InvalidArgument("column '" + first.schema().field(c).name +
                                   "' holds more than 4 GiB of text; use more partitions");
    }
  }
  types::Batch events = std::move(pieces[0][0]);
  // The other pieces are appended to worker 0's in order, each column by one thread, each
  // piece's column freed as soon as it is appended.
  auto join = [&](size_t c) {
    for (size_t w = 0; w < workers; ++w) {
      for (size_t i = w == 0 ? 1 : 0; i < pieces[w].size(); ++i) {
        types::Column& part = pieces[w][i].column(c);
        events.column(c).AppendColumn(part);
        part = types::Column(part.type());
      }
    }
  };
  const size_t columns = events.num_columns();
  base::RunWorkers(static_cast<int>(std::min(workers, columns)), [&](int t) {
    for (auto c = static_cast<size_t>(t); c < columns; c += workers)
      join(c);
  });
  return events;
}

}  // namespace sluice::engine
