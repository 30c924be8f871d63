#include "warehouse/warehouse.h"

namespace sluice::warehouse {
namespace {

bool IsContinuationByte(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

}  // namespace

base::Status Warehouse::Drop(std::string_view name) {
  SLUICE_ASSIGN_OR_RETURN(RelationKind kind, Relation(name));
  if (kind == RelationKind::kNone) return base::Status::Ok();
  // PostgreSQL refuses to drop a relation other views depend on unless told to cascade; DuckDB
  // binds views lazily and has no such dependencies.
  const std::string cascade = Kind() == "postgres" ? " CASCADE" : "";
  return Execute(std::string(kind == RelationKind::kView ? "DROP VIEW " : "DROP TABLE ") +
                 "IF EXISTS " + RelationSql(name) + cascade);
}

SqlPosition PositionOfOffset(std::string_view text, std::size_t offset) {
  SqlPosition p{1, 1};
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++p.line;
      p.column = 1;
    } else if (!IsContinuationByte(text[i])) {
      ++p.column;
    }
  }
  return p;
}

std::size_t OffsetOfPosition(std::string_view text, SqlPosition position) {
  std::size_t i = 0;
  for (int line = 1; line < position.line && i < text.size(); ++i) {
    if (text[i] == '\n') ++line;
  }
  for (int column = 1; i < text.size() && text[i] != '\n';) {
    if (column >= position.column) break;
    ++i;
    while (i < text.size() && IsContinuationByte(text[i]))
      ++i;
    ++column;
  }
  return i;
}

base::Result<std::unique_ptr<Warehouse>> OpenWarehouse(const config::WarehouseSpec& spec,
                                                       const std::filesystem::path& project_dir) {
  if (spec.type == config::WarehouseType::kPostgres) {
    return OpenPostgresWarehouse(spec.connection, spec.schema.value_or("public"));
  }
  std::filesystem::path path(spec.path);
  if (spec.path != ":memory:" && path.is_relative()) path = project_dir / path;
  if (spec.path != ":memory:" && path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) {
      return base::IoError("cannot create '" + path.parent_path().string() + "': " + ec.message());
    }
  }
  return OpenDuckDbWarehouse(spec.path == ":memory:" ? spec.path : path.string(),
                             static_cast<int>(spec.threads.value_or(0)));
}

}  // namespace sluice::warehouse
