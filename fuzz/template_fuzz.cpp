// SQL model templates are written by people. Whatever parses must describe its references
// exactly (each at a "{{" of the text, in order, not overlapping), render to SQL with no "{{"
// left, and map every position of the rendered SQL back inside the template, since errors from
// the warehouse are shown at those positions.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "models/template.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const bool allow_this = (data[0] & 1) != 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  auto t = sluice::models::ParseTemplate(text, "models/fuzz.sql", allow_this);
  if (!t.ok()) {
    if (t.status().message().rfind("models/fuzz.sql:", 0) != 0) __builtin_trap();  // says where
    return 0;
  }
  std::size_t previous_end = 0;
  for (const auto& ref : t->refs) {
    if (ref.begin < previous_end || ref.end <= ref.begin || ref.end > text.size() ||
        text.substr(ref.begin, 2) != "{{" || text.substr(ref.end - 2, 2) != "}}") {
      __builtin_trap();
    }
    if (ref.kind == sluice::models::RefKind::kThis && !allow_this) __builtin_trap();
    previous_end = ref.end;
  }
  const auto rendered =
      sluice::models::Render(*t, [](const sluice::models::TemplateRef&) { return "r"; });
  const std::string& sql = rendered.sql();
  if (sql.find("{{") != std::string::npos) __builtin_trap();
  int lines = 1;
  for (char c : text)
    lines += c == '\n';
  int line = 1, column = 1;
  for (std::size_t i = 0; i <= sql.size() && i < 4096; ++i) {
    const auto back = rendered.ToTemplate({line, column});
    if (back.line < 1 || back.line > lines || back.column < 1) __builtin_trap();
    if (i < sql.size() && sql[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return 0;
}
