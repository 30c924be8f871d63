#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "warehouse/warehouse.h"

// The template language of SQL models: plain SQL with `{{ ... }}` references, resolved before
// the SQL reaches the warehouse. Positions are kept so the warehouse's errors can be shown at the
// model file's own line and column.
namespace sluice::models {

enum class RefKind {
  kSource,  // {{ source('name') }}: the current version of a source in the lake
  kRef,     // {{ ref('name') }}: another model
  kThis,    // {{ this }}: the model itself (only in custom SQL tests)
};

struct TemplateRef {
  RefKind kind = RefKind::kRef;
  std::string name;                 // empty for kThis
  warehouse::SqlPosition position;  // of the opening "{{" in the template text
  std::size_t begin = 0;            // byte offsets of the whole {{ ... }} block
  std::size_t end = 0;
};

struct Template {
  std::string text;  // as written
  std::vector<TemplateRef> refs;
};

// Parses `text`. Accepted expressions, with any spacing and either quote: source('name'),
// ref('name') and, when `allow_this`, this. Anything else in {{ }} (or an unclosed "{{") is
// InvalidArgument "<file>:<line>:<column>: ..." naming what was found and what is accepted.
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

// The template's line `line` (1-based) and a caret under `column`, for error messages:
//   "   5 |   sum(amountx) AS amount_sum\n     |       ^"
std::string Excerpt(std::string_view text, warehouse::SqlPosition position);

}  // namespace sluice::models
