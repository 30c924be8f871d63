#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "base/time.h"
#include "warehouse/warehouse.h"

// The template language of SQL models: plain SQL with `{{ ... }}` references, resolved before
// the SQL reaches the warehouse. Positions are kept so the warehouse's errors can be shown at the
// model file's own line and column.
namespace sluice::models {

enum class RefKind {
  kSource,  // {{ source('name') }}: the current version of a source in the lake
  kRef,     // {{ ref('name') }}: another model
  kThis,    // {{ this }}: the model itself (only in custom SQL tests)
  // Values of the run, rendered as SQL literals (see TemplateValues):
  kIntervalStart,  // {{ interval_start }}: TIMESTAMP literal, the partition's first instant
  kIntervalEnd,    // {{ interval_end }}: TIMESTAMP literal, the first instant after it
  kVar,            // {{ var('name') }}: string literal of --var name=value
};

// Whether a reference is replaced by a value of the run rather than by a relation name.
inline bool IsValue(RefKind kind) {
  return kind == RefKind::kIntervalStart || kind == RefKind::kIntervalEnd || kind == RefKind::kVar;
}

struct TemplateRef {
  RefKind kind = RefKind::kRef;
  std::string name;                 // the source, model or variable; empty otherwise
  warehouse::SqlPosition position;  // of the opening "{{" in the template text
  std::size_t begin = 0;            // byte offsets of the whole {{ ... }} block
  std::size_t end = 0;
};

struct Template {
  std::string text;  // as written
  std::string file;  // where it was written, for messages ("models/m.sql")
  std::vector<TemplateRef> refs;
};

// Parses `text`. Accepted expressions, with any spacing and either quote: source('name'),
// ref('name'), var('name'), interval_start, interval_end and, when `allow_this`, this. Anything
// else in {{ }} (or an unclosed "{{") is InvalidArgument "<file>:<line>:<column>: ..." naming
// what was found and what is accepted.
base::Result<Template> ParseTemplate(std::string_view text, const std::string& file,
                                     bool allow_this);

// SQL text produced from a template, with the map back to the template's positions.
class RenderedSql {
 public:
  const std::string& sql() const { return sql_; }
  // The template position of a position in sql(). A position inside a substituted reference maps
  // to the reference's "{{".
  warehouse::SqlPosition ToTemplate(warehouse::SqlPosition in_sql) const;

 private:
  friend RenderedSql Render(const Template&, const std::function<std::string(const TemplateRef&)>&);
  struct Piece {
    std::size_t sql_begin = 0;
    std::size_t template_begin = 0;
    std::size_t length = 0;  // in sql(); literal pieces have the same length in the template
    bool substituted = false;
  };
  std::string sql_;
  std::string template_text_;
  std::vector<Piece> pieces_;
};

// Substitutes every reference with `resolve(ref)` (a relation name in SQL). Trailing ';' and
// whitespace are dropped so the SQL can be wrapped (CREATE TABLE ... AS, subqueries).
RenderedSql Render(const Template& t,
                   const std::function<std::string(const TemplateRef&)>& resolve);

// What a run gives templates: a partition's interval (sluice run / backfill of a partitioned
// pipeline, or sluice build --interval-start/--interval-end) and --var values.
struct TemplateValues {
  std::optional<base::ProcessingTime> interval_start;  // both or neither
  std::optional<base::ProcessingTime> interval_end;
  std::map<std::string, std::string> vars;
};

// "NAME=VALUE" flags (--var) as a map; NAME must match [a-z_][a-z0-9_]*, VALUE may be anything
// but a NUL byte. A repeated NAME keeps the last value. InvalidArgument names the bad flag.
base::Result<std::map<std::string, std::string>> ParseVarAssignments(
    const std::vector<std::string>& flags);

// Every value reference of `t` that `values` does not provide, as
// "<file>:<line>:<column>: {{ var('day') }} has no value: ..." lines (empty: all provided).
std::vector<std::string> MissingValues(const Template& t, const TemplateValues& values);

// The SQL literal a value reference renders as: TIMESTAMP '2024-01-01 00:00:00' (UTC, as sluice
// stores timestamps) or a single-quoted string with quotes doubled. `dialect` is the warehouse's
// Kind(): on "postgres" a string with a backslash becomes an E'' literal with backslashes doubled,
// so it means the same whatever standard_conforming_strings says. Empty when not provided.
std::optional<std::string> ValueLiteral(const TemplateRef& ref, const TemplateValues& values,
                                        std::string_view dialect);

// The values `t` uses, one "name=value" line each in first-use order, for definition hashes: a
// model built for one interval or var value is a different definition than for another.
std::string UsedValues(const Template& t, const TemplateValues& values);

// The template's line `line` (1-based) and a caret under `column`, for error messages:
//   "   5 |   sum(amountx) AS amount_sum\n     |       ^"
std::string Excerpt(std::string_view text, warehouse::SqlPosition position);

}  // namespace sluice::models
