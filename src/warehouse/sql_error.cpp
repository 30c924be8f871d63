#include "warehouse/sql_error.h"

#include <cstdlib>
#include <string>

namespace sluice::warehouse {
namespace {

bool IsContinuationByte(char c) {
  return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

std::size_t CountChars(std::string_view s) {
  std::size_t n = 0;
  for (char c : s)
    n += IsContinuationByte(c) ? 0 : 1;
  return n;
}

std::string_view LineOf(std::string_view text, int line) {
  std::size_t start = 0;
  for (int l = 1; l < line; ++l) {
    const std::size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) return {};
    start = nl + 1;
  }
  const std::size_t end = text.find('\n', start);
  return text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
}

std::optional<SqlPosition> Shift(SqlPosition p, int lines_before) {
  p.line -= lines_before;
  if (p.line < 1) return std::nullopt;  // inside the caller's wrapper, not its SQL
  return p;
}

}  // namespace

base::Status SplitDuckDbError(const base::Status& error, std::string_view sql, int lines_before,
                              std::optional<SqlPosition>* where) {
  const std::string& message = error.message();
  std::string kept;
  std::optional<SqlPosition> found;
  std::size_t at = 0;
  while (at < message.size()) {
    std::size_t end = message.find('\n', at);
    if (end == std::string::npos) end = message.size();
    const std::string_view line(message.data() + at, end - at);
    if (line.rfind("LINE ", 0) == 0) {
      const std::size_t colon = line.find(": ");
      const std::size_t caret_end = message.find('\n', end + 1);
      const std::string_view caret_line =
          end < message.size()
              ? std::string_view(
                    message.data() + end + 1,
                    (caret_end == std::string::npos ? message.size() : caret_end) - end - 1)
              : std::string_view();
      const std::size_t caret = caret_line.find('^');
      if (colon != std::string_view::npos && caret != std::string_view::npos && !found) {
        const int line_no = std::atoi(std::string(line.substr(5, colon - 5)).c_str());
        std::string_view excerpt = line.substr(colon + 2);
        // The caret is counted in characters from the start of the "LINE n: " line.
        std::size_t caret_chars = caret - CountChars(line.substr(0, colon + 2));
        if (excerpt.rfind("...", 0) == 0) {
          excerpt.remove_prefix(3);
          caret_chars = caret_chars >= 3 ? caret_chars - 3 : 0;
        }
        if (excerpt.size() >= 3 && excerpt.substr(excerpt.size() - 3) == "...") {
          excerpt.remove_suffix(3);
        }
        const std::string_view real = LineOf(sql, line_no);
        const std::size_t in_real = excerpt.empty() ? 0 : real.find(excerpt);
        std::size_t column = caret_chars + 1;
        if (in_real != std::string_view::npos) column += CountChars(real.substr(0, in_real));
        if (line_no >= 1) {
          found = Shift(SqlPosition{line_no, static_cast<int>(column)}, lines_before);
        }
      }
      at = caret_end == std::string::npos ? message.size() : caret_end + 1;
      continue;
    }
    kept += std::string(line) + "\n";
    at = end + 1;
  }
  while (!kept.empty() && (kept.back() == '\n' || kept.back() == ' '))
    kept.pop_back();
  if (where != nullptr) *where = found;
  base::Status out(error.code(), kept, error.retryable());
  for (auto it = error.context().rbegin(); it != error.context().rend(); ++it)
    out = std::move(out).WithContext(*it);
  return out;
}

std::optional<SqlPosition> PostgresErrorPosition(std::string_view sql, int char_position,
                                                 int lines_before) {
  if (char_position < 1) return std::nullopt;
  std::size_t offset = 0;
  for (int chars = 1; chars < char_position && offset < sql.size(); ++chars) {
    ++offset;
    while (offset < sql.size() && IsContinuationByte(sql[offset]))
      ++offset;
  }
  return Shift(PositionOfOffset(sql, offset), lines_before);
}

}  // namespace sluice::warehouse
