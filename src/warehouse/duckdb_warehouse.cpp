// The embedded DuckDB warehouse: a database file in the project, reached through DuckDb.
#include <cctype>
#include <cstdlib>

#include "warehouse/duckdb_database.h"
#include "warehouse/sql_error.h"
#include "warehouse/warehouse.h"

namespace sluice::warehouse {

// The SELECT a dataset version's view runs: its Parquet parts with the declared columns.
std::string ParquetSelectSql(const std::vector<std::filesystem::path>& files,
                             const types::Schema& schema) {
  std::string columns;
  for (const auto& f : schema.fields()) {
    if (!columns.empty()) columns += ", ";
    // Cast to the declared type, so a relation has the same types in every warehouse; an empty
    // version still has its columns.
    columns += "CAST(" + (files.empty() ? std::string("NULL") : QuoteIdentifier(f.name)) + " AS " +
               std::string(DuckDbTypeName(f.type)) + ") AS " + QuoteIdentifier(f.name);
  }
  if (files.empty()) return "SELECT " + columns + " WHERE false";
  std::string list;
  for (const auto& file : files)
    list += (list.empty() ? "" : ", ") + QuoteLiteral(file.string());
  return "SELECT " + columns + " FROM read_parquet([" + list + "])";
}

std::string ParquetCompressionOption(config::LakeCompression c) {
  switch (c) {
    case config::LakeCompression::kZstd:
      return "COMPRESSION zstd";
    case config::LakeCompression::kLz4:
      return "COMPRESSION lz4_raw";  // DuckDB's lz4 is the same codec; lz4_raw is the name
    case config::LakeCompression::kSnappy:
      return "COMPRESSION snappy";
    case config::LakeCompression::kNone:
      return "COMPRESSION uncompressed";
  }
  return "COMPRESSION zstd";
}

namespace {

class DuckDbWarehouse final : public Warehouse {
 public:
  DuckDbWarehouse(DuckDb db, std::string path) : db_(std::move(db)), path_(std::move(path)) {}

  std::string_view Kind() const override { return "duckdb"; }
  std::string Describe() const override { return "duckdb " + path_; }

  base::Result<std::unique_ptr<Warehouse>> NewSession() override {
    SLUICE_ASSIGN_OR_RETURN(DuckDb db, db_.Connect());
    auto session = std::make_unique<DuckDbWarehouse>(std::move(db), path_);
    SLUICE_RETURN_IF_ERROR(session->Configure());
    return std::unique_ptr<Warehouse>(std::move(session));
  }

  // Session settings every connection gets: UTC so timestamps mean the same everywhere.
  base::Status Configure() { return db_.Execute("SET TimeZone = 'UTC'"); }

  std::string RelationSql(std::string_view name) const override { return QuoteIdentifier(name); }

  base::Status Execute(std::string_view sql, std::optional<SqlPosition>* where) override {
    base::Status s = db_.Execute(sql);
    if (s.ok()) return s;
    return SplitDuckDbError(s, sql, 0, where);
  }

  base::Result<std::int64_t> QueryInt64(std::string_view sql,
                                        std::optional<SqlPosition>* where) override {
    auto v = db_.QueryScalarInt64(sql);
    if (v.ok()) return v;
    return SplitDuckDbError(v.status(), sql, 0, where);
  }

  base::Result<TextRows> QueryText(std::string_view sql, std::size_t max_rows,
                                   std::optional<SqlPosition>* where) override {
    // DuckDB renders every type as VARCHAR itself; the wrapper adds one line before `sql`.
    const std::string wrapped = "SELECT COLUMNS(*)::VARCHAR FROM (\n" + std::string(sql) +
                                "\n) AS sluice_rows LIMIT " + std::to_string(max_rows);
    auto batch = db_.Query(wrapped);
    if (!batch.ok()) return SplitDuckDbError(batch.status(), wrapped, 1, where);
    TextRows out;
    for (const auto& f : batch->schema().fields())
      out.columns.push_back(f.name);
    for (std::size_t r = 0; r < batch->num_rows(); ++r) {
      std::vector<std::optional<std::string>> row;
      for (std::size_t c = 0; c < batch->num_columns(); ++c) {
        const auto& col = batch->column(c);
        row.push_back(col.IsValid(r) ? std::optional<std::string>(std::string(col.GetString(r)))
                                     : std::nullopt);
      }
      out.rows.push_back(std::move(row));
    }
    return out;
  }

  base::Result<int> DropOtherVersions(std::string_view, std::string_view) override { return 0; }

  base::Result<RelationKind> Relation(std::string_view name) override {
    auto batch = db_.Query(
        "SELECT table_type FROM information_schema.tables WHERE table_catalog = "
        "current_database() AND table_schema = current_schema() AND table_name = " +
        QuoteLiteral(name));
    SLUICE_RETURN_IF_ERROR(batch.status());
    if (batch->num_rows() == 0) return RelationKind::kNone;
    return batch->column(0).GetString(0) == "VIEW" ? RelationKind::kView : RelationKind::kTable;
  }

  base::Result<types::Schema> Columns(std::string_view name) override {
    SLUICE_ASSIGN_OR_RETURN(types::Batch batch,
                            db_.Query("SELECT * FROM " + RelationSql(name) + " LIMIT 0"));
    return batch.schema();
  }

  base::Result<bool> AttachParquet(std::string_view name,
                                   const std::vector<std::filesystem::path>& files,
                                   const types::Schema& schema,
                                   const std::filesystem::path& /*scratch_dir*/) override {
    // Replaced every time: the view costs nothing and the lake may have moved with the project.
    SLUICE_RETURN_IF_ERROR(db_.Execute("CREATE OR REPLACE VIEW " + RelationSql(name) + " AS " +
                                       ParquetSelectSql(files, schema)));
    return false;
  }

  base::Result<std::int64_t> ExportParquet(std::string_view name, const std::filesystem::path& file,
                                           config::LakeCompression compression,
                                           const std::filesystem::path& /*scratch_dir*/) override {
    // Columns are written as sluice's types (INTEGER as BIGINT, DECIMAL as DOUBLE...), the types
    // the manifest's schema names and a PostgreSQL export writes.
    SLUICE_ASSIGN_OR_RETURN(types::Schema schema, Columns(name));
    std::string columns;
    for (const auto& f : schema.fields()) {
      columns += (columns.empty() ? "" : ", ") + std::string("CAST(") + QuoteIdentifier(f.name) +
                 " AS " + std::string(DuckDbTypeName(f.type)) + ") AS " + QuoteIdentifier(f.name);
    }
    SLUICE_RETURN_IF_ERROR(db_.Execute("COPY (SELECT " + columns + " FROM " + RelationSql(name) +
                                       " ORDER BY ALL) TO " + QuoteLiteral(file.string()) +
                                       " (FORMAT parquet, " +
                                       ParquetCompressionOption(compression) + ")"));
    return db_.QueryScalarInt64("SELECT count(*) FROM " + RelationSql(name));
  }

 private:
  DuckDb db_;
  std::string path_;
};

}  // namespace

base::Result<std::unique_ptr<Warehouse>> OpenDuckDbWarehouse(const std::string& path, int threads) {
  DuckDb::Options options;
  options.threads = threads;
  auto db = DuckDb::Open(path, options);
  if (!db.ok()) return db.status().WithContext("opening the DuckDB warehouse");
  auto warehouse = std::make_unique<DuckDbWarehouse>(std::move(db).value(), path);
  SLUICE_RETURN_IF_ERROR(warehouse->Configure());
  return std::unique_ptr<Warehouse>(std::move(warehouse));
}

}  // namespace sluice::warehouse
