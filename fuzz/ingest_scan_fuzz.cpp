// Fuzzes the two scans ingest makes over raw input bytes before trusting DuckDB's readers with
// them: CountJsonObjectLines (may JSON Lines be read directly by read_json?) and CsvRecordLines
// (which line does a CSV record start on?). Both read a file, so each input is written to one.
// They must not crash and must agree with a plain, slow model of what they promise:
//   - CountJsonObjectLines counts the '\n'-separated lines, and refuses (nullopt) exactly when
//     one of them holds only spaces, tabs and CRs or the file starts with a byte order mark;
//   - CsvRecordLines returns one line per wanted record, increasing, each a line of the file
//     that is not blank, and refuses when told another number of accepted records.
//
// Input layout: byte 0 the CSV quote (0 = none), byte 1 bit 0 header; the rest is the file.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/file_reader.h"

namespace {

std::filesystem::path ScratchFile() {
  return std::filesystem::temp_directory_path() /
         ("sluice_ingest_scan_fuzz_" + std::to_string(::getpid()));
}

bool WriteFile(const std::filesystem::path& path, std::string_view bytes) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return false;
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size();
  return std::fclose(f) == 0 && ok;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const char quote = static_cast<char>(data[0]);
  const bool header = (data[1] & 1) != 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 2), size - 2);
  const std::filesystem::path path = ScratchFile();
  if (!WriteFile(path, text)) return 0;

  // The model: split at '\n'; a trailing piece after the last '\n' is a line if not empty.
  std::vector<std::string_view> lines;
  size_t from = 0;
  for (size_t at; (at = text.find('\n', from)) != std::string_view::npos; from = at + 1)
    lines.push_back(text.substr(from, at - from));
  if (from < text.size()) lines.push_back(text.substr(from));
  bool refuse = text.substr(0, 3) == "\xEF\xBB\xBF";
  for (const auto& l : lines)
    refuse = refuse || l.find_first_not_of(" \t\r") == std::string_view::npos;
  const auto counted = sluice::connectors::CountJsonObjectLines(path);
  if (!counted.ok()) __builtin_trap();
  if (counted->has_value() == refuse) __builtin_trap();
  if (counted->has_value() && **counted != static_cast<std::int64_t>(lines.size())) {
    __builtin_trap();
  }

  // Ask for every record the walk can find: count them first with nothing wanted.
  std::int64_t records = 0;
  for (std::int64_t n = 0; n <= static_cast<std::int64_t>(lines.size()) + 1; ++n) {
    auto r = sluice::connectors::CsvRecordLines(path, quote, header, {}, {}, n);
    if (!r.ok()) __builtin_trap();
    if (r->has_value()) {
      records = n;
      break;
    }
  }
  std::vector<std::int64_t> wanted;
  for (std::int64_t k = 1; k <= records; ++k)
    wanted.push_back(k);
  const auto found = sluice::connectors::CsvRecordLines(path, quote, header, {}, wanted, records);
  if (!found.ok() || !found->has_value() || (*found)->size() != wanted.size()) __builtin_trap();
  std::int64_t previous = 0;
  for (const std::int64_t line : **found) {
    if (line <= previous || line > static_cast<std::int64_t>(lines.size())) __builtin_trap();
    const std::string_view l = lines[static_cast<size_t>(line - 1)];
    if (l.find_first_not_of('\r') == std::string_view::npos) __builtin_trap();  // blank
    previous = line;
  }
  if (sluice::connectors::CsvRecordLines(path, quote, header, {}, wanted, records + 1)
          ->has_value()) {
    __builtin_trap();
  }
  std::error_code ec;
  std::filesystem::remove(path, ec);
  return 0;
}
