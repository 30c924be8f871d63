#pragma once

#include <optional>
#include <string_view>

#include "base/status.h"
#include "warehouse/warehouse.h"

// Positions in warehouse error messages, shared by the warehouse implementations (internal to
// src/warehouse).
namespace sluice::warehouse {

// DuckDB reports where a statement went wrong as an excerpt after its message:
//
//   Binder Error: Referenced column "b" not found in FROM clause!
//
//   LINE 2:   b
//             ^
//
// Returns `error` with those blocks removed and sets *where (if given) to the position they
// point at in `sql`, less `lines_before` lines (a wrapper the caller put before its own SQL).
// The excerpt of a long line is cut and marked with "..."; it is found in the real line to
// recover the column.
base::Status SplitDuckDbError(const base::Status& error, std::string_view sql, int lines_before,
                              std::optional<SqlPosition>* where);

// The position of PostgreSQL's error position (1-based, counted in characters of `sql`), less
// `lines_before` lines.
std::optional<SqlPosition> PostgresErrorPosition(std::string_view sql, int char_position,
                                                 int lines_before);

}  // namespace sluice::warehouse
