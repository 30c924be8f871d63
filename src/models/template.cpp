#include "models/template.h"

#include <cctype>
#include <set>

#include "config/project_validator.h"

namespace sluice::models {
namespace {

using warehouse::SqlPosition;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
    s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
    s.remove_suffix(1);
  return s;
}

// Parses `fn ( 'name' )` with any spacing; returns false if `expr` is not of that form.
bool ParseCall(std::string_view expr, std::string_view fn, std::string* name) {
  if (expr.rfind(fn, 0) != 0) return false;
  std::string_view rest = Trim(expr.substr(fn.size()));
  if (rest.size() < 2 || rest.front() != '(' || rest.back() != ')') return false;
  rest = Trim(rest.substr(1, rest.size() - 2));
  if (rest.size() < 3) return false;
  const char q = rest.front();
  if ((q != '\'' && q != '"') || rest.back() != q) return false;
  rest = rest.substr(1, rest.size() - 2);
  if (rest.empty()) return false;
  for (char c : rest) {
    if (c == '\'' || c == '"' || c == ',' || std::isspace(static_cast<unsigned char>(c)))
      return false;
  }
  *name = std::string(rest);
  return true;
}

}  // namespace

base::Result<Template> ParseTemplate(std::string_view text, const std::string& file,
                                     bool allow_this) {
  Template t;
  t.text = std::string(text);
  t.file = file;
  std::string errors;
  auto report = [&](std::size_t at, const std::string& message) {
    const SqlPosition p = warehouse::PositionOfOffset(text, at);
    errors += (errors.empty() ? "" : "\n") + file + ":" + std::to_string(p.line) + ":" +
              std::to_string(p.column) + ": " + message;
  };
  const std::string accepted =
      std::string("{{ ref('model') }}, {{ source('name') }}, {{ var('name') }}, ") +
      "{{ interval_start }}, {{ interval_end }}" + (allow_this ? " or {{ this }}" : "");
  std::size_t at = 0;
  while ((at = text.find("{{", at)) != std::string_view::npos) {
    const std::size_t close = text.find("}}", at + 2);
    const std::size_t next_open = text.find("{{", at + 2);
    if (close == std::string_view::npos ||
        (next_open != std::string_view::npos && next_open < close)) {
      report(at, "'{{' is not closed by '}}'");
      at += 2;
      continue;
    }
    const std::string_view expr = Trim(text.substr(at + 2, close - at - 2));
    TemplateRef ref;
    ref.position = warehouse::PositionOfOffset(text, at);
    ref.begin = at;
    ref.end = close + 2;
    if (ParseCall(expr, "source", &ref.name)) {
      ref.kind = RefKind::kSource;
    } else if (ParseCall(expr, "ref", &ref.name)) {
      ref.kind = RefKind::kRef;
    } else if (ParseCall(expr, "var", &ref.name)) {
      ref.kind = RefKind::kVar;
      if (!config::IsValidName(ref.name)) {
        report(at, "variable name '" + ref.name + "' must match [a-z_][a-z0-9_]* (as --var does)");
        at = close + 2;
        continue;
      }
    } else if (expr == "interval_start") {
      ref.kind = RefKind::kIntervalStart;
    } else if (expr == "interval_end") {
      ref.kind = RefKind::kIntervalEnd;
    } else if (allow_this && expr == "this") {
      ref.kind = RefKind::kThis;
    } else {
      std::string hint;
      if (expr.rfind("source", 0) == 0 && expr.find(',') != std::string_view::npos) {
        hint = " (sources have one name: source('transactions'))";
      } else if (expr == "this") {
        hint = " ({{ this }} is only for custom SQL tests)";
      } else if (expr.rfind("var", 0) == 0) {
        hint = " (variables have one name and no default: var('day'))";
      } else if (expr.find("interval") != std::string_view::npos) {
        hint = " (the interval is {{ interval_start }} and {{ interval_end }})";
      }
      report(at, "unsupported template expression '{{ " + std::string(expr) + " }}'" + hint +
                     "; use " + accepted);
      at = close + 2;
      continue;
    }
    t.refs.push_back(std::move(ref));
    at = close + 2;
  }
  if (text.find("{%") != std::string_view::npos) {
    report(text.find("{%"),
           "'{%' blocks are not supported; sluice models are SQL with " + accepted + " only");
  }
  if (!errors.empty()) return base::InvalidArgument(errors);
  return t;
}

RenderedSql Render(const Template& t,
                   const std::function<std::string(const TemplateRef&)>& resolve) {
  RenderedSql out;
  out.template_text_ = t.text;
  std::size_t at = 0;
  auto literal = [&](std::size_t begin, std::size_t end) {
    if (end <= begin) return;
    out.pieces_.push_back({out.sql_.size(), begin, end - begin, false});
    out.sql_.append(t.text, begin, end - begin);
  };
  for (const auto& ref : t.refs) {
    literal(at, ref.begin);
    const std::string value = resolve(ref);
    out.pieces_.push_back({out.sql_.size(), ref.begin, value.size(), true});
    out.sql_ += value;
    at = ref.end;
  }
  literal(at, t.text.size());
  // Drop a trailing ';' (and whitespace, and further ';'), which would end a wrapping statement.
  while (!out.sql_.empty() &&
         (std::isspace(static_cast<unsigned char>(out.sql_.back())) || out.sql_.back() == ';')) {
    out.sql_.pop_back();
  }
  return out;
}

SqlPosition RenderedSql::ToTemplate(SqlPosition in_sql) const {
  const std::size_t offset = warehouse::OffsetOfPosition(sql_, in_sql);
  for (const auto& piece : pieces_) {
    if (offset >= piece.sql_begin && offset < piece.sql_begin + piece.length) {
      const std::size_t in_template = piece.substituted
                                          ? piece.template_begin
                                          : piece.template_begin + (offset - piece.sql_begin);
      return warehouse::PositionOfOffset(template_text_, in_template);
    }
  }
  // At or past the end: the end of the template.
  return warehouse::PositionOfOffset(template_text_, template_text_.size());
}

base::Result<std::map<std::string, std::string>> ParseVarAssignments(
    const std::vector<std::string>& flags) {
  std::map<std::string, std::string> out;
  for (const auto& kv : flags) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      return base::InvalidArgument("--var '" + kv + "': expected NAME=VALUE");
    }
    const std::string name = kv.substr(0, eq);
    if (!config::IsValidName(name)) {
      return base::InvalidArgument("--var '" + kv + "': the name must match [a-z_][a-z0-9_]*");
    }
    if (kv.find('\0') != std::string::npos) {
      return base::InvalidArgument("--var " + name + ": the value holds a NUL byte");
    }
    out[name] = kv.substr(eq + 1);
  }
  return out;
}

namespace {

std::string Describe(const TemplateRef& ref) {
  switch (ref.kind) {
    case RefKind::kIntervalStart:
      return "{{ interval_start }}";
    case RefKind::kIntervalEnd:
      return "{{ interval_end }}";
    case RefKind::kVar:
      return "{{ var('" + ref.name + "') }}";
    default:
      return "";
  }
}

// TIMESTAMP 'YYYY-MM-DD HH:MM:SS[.ffffff]': both warehouses read it as a UTC instant without a
// zone, the type sluice gives timestamp columns.
std::string TimestampLiteral(base::ProcessingTime t) {
  std::string iso = base::FormatTime(t);  // "2024-03-01T12:00:00Z" or "...00.123456Z"
  if (!iso.empty() && iso.back() == 'Z') iso.pop_back();
  const size_t sep = iso.find('T');
  if (sep != std::string::npos) iso[sep] = ' ';
  return "TIMESTAMP '" + iso + "'";
}

std::string StringLiteral(std::string_view text, std::string_view dialect) {
  const bool escape = dialect == "postgres" && text.find('\\') != std::string_view::npos;
  std::string out = escape ? "E'" : "'";
  for (char c : text) {
    if (c == '\'') out += '\'';
    if (escape && c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

}  // namespace

std::vector<std::string> MissingValues(const Template& t, const TemplateValues& values) {
  std::vector<std::string> out;
  for (const auto& ref : t.refs) {
    if (!IsValue(ref.kind) || ValueLiteral(ref, values, "").has_value()) continue;
    std::string why;
    if (ref.kind == RefKind::kVar) {
      why = "pass --var " + ref.name + "=VALUE (sluice build, run or backfill)";
    } else {
      why =
          "only a run of a partitioned pipeline (partition: hour|day; sluice run, sluice "
          "backfill) or sluice build --interval-start T --interval-end T gives an interval";
    }
    out.push_back(t.file + ":" + std::to_string(ref.position.line) + ":" +
                  std::to_string(ref.position.column) + ": " + Describe(ref) +
                  " has no value: " + why);
  }
  return out;
}

std::optional<std::string> ValueLiteral(const TemplateRef& ref, const TemplateValues& values,
                                        std::string_view dialect) {
  switch (ref.kind) {
    case RefKind::kIntervalStart:
      if (!values.interval_start) return std::nullopt;
      return TimestampLiteral(*values.interval_start);
    case RefKind::kIntervalEnd:
      if (!values.interval_end) return std::nullopt;
      return TimestampLiteral(*values.interval_end);
    case RefKind::kVar: {
      auto it = values.vars.find(ref.name);
      if (it == values.vars.end()) return std::nullopt;
      return StringLiteral(it->second, dialect);
    }
    default:
      return std::nullopt;
  }
}

std::string UsedValues(const Template& t, const TemplateValues& values) {
  std::string out;
  std::set<std::string> seen;
  for (const auto& ref : t.refs) {
    if (!IsValue(ref.kind)) continue;
    const std::string key = Describe(ref);
    if (!seen.insert(key).second) continue;
    out += key + "=" + ValueLiteral(ref, values, "").value_or("(none)") + "\n";
  }
  return out;
}

std::string Excerpt(std::string_view text, SqlPosition position) {
  std::size_t start = 0;
  for (int line = 1; line < position.line; ++line) {
    const std::size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) return "";
    start = nl + 1;
  }
  std::size_t end = text.find('\n', start);
  if (end == std::string_view::npos) end = text.size();
  std::string line_text(text.substr(start, end - start));
  for (char& c : line_text) {
    if (c == '\t') c = ' ';
  }
  const std::string number = std::to_string(position.line);
  std::string gutter(number.size(), ' ');
  return "  " + number + " | " + line_text + "\n  " + gutter + " | " +
         std::string(position.column > 1 ? position.column - 1 : 0, ' ') + "^";
}

}  // namespace sluice::models
