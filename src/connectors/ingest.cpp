#include "connectors/ingest.h"

#include <glob.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <random>
#include <system_error>
#include <thread>

#include "base/build_version.h"
#include "base/kill_point.h"
#include "base/log.h"
#include "connectors/file_reader.h"
#include "connectors/json_keys_scan.h"
#include "connectors/postgres_source.h"
#include "lake/content_hash.h"
#include "lake/staging_dir.h"
#include "warehouse/duckdb_database.h"
#include "warehouse/warehouse.h"

namespace sluice::connectors {
namespace fs = std::filesystem;

using warehouse::QuoteIdentifier;
using warehouse::QuoteLiteral;

namespace {

// The UTF-8 byte-order mark some tools (Excel) write at the start of a text file.
constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// How the lake's Parquet files are written, with the project's lake.compression. zstd (the
// default) at level 1 costs about what DuckDB's default snappy costs to write (zstd's default
// level 3 costs about 15% more CPU on the whole copy) and, on the example transactions, gives
// files a third smaller than snappy and slightly smaller than level 3 (measured in
// bench/README.md); lz4 and snappy files cost less than half the CPU to scan.
// zstd files are also Parquet format 2 (DuckDB's PARQUET_VERSION V2): doubles as
// BYTE_STREAM_SPLIT, integers DELTA_BINARY_PACKED. zstd entropy-codes whole pages, and on a plain
// double page it Huffman-decodes every byte for a saving of 3%; split into byte planes, the
// random low bytes are stored raw and the sign and exponent bytes shrink: on the quality bench's
// doubles 7% smaller files and 0.09 s less CPU to decode 100M values (bench/README.md). lz4 and
// snappy cannot use the planes and DuckDB's byte-stream-split decoder costs more than they save,
// so they stay format 1.
std::string ParquetOptions(config::LakeCompression compression) {
  return " (FORMAT parquet, " + warehouse::ParquetCompressionOption(compression) +
         (compression == config::LakeCompression::kZstd
              ? ", COMPRESSION_LEVEL 1, PARQUET_VERSION V2)"
              : ")");
}

base::Result<std::vector<fs::path>> ResolveFiles(const fs::path& project_dir,
                                                 const std::string& pattern) {
  const fs::path full = fs::path(pattern).is_absolute() ? fs::path(pattern) : project_dir / pattern;
  glob_t g{};
  const int rc = ::glob(full.c_str(), GLOB_ERR | GLOB_NOSORT, nullptr, &g);
  std::vector<fs::path> files;
  if (rc == 0) {
    for (size_t i = 0; i < g.gl_pathc; ++i) {
      std::error_code ec;
      if (fs::is_regular_file(g.gl_pathv[i], ec)) files.emplace_back(g.gl_pathv[i]);
    }
  }
  globfree(&g);
  if (rc != 0 && rc != GLOB_NOMATCH) {
    return base::IoError("cannot list files matching '" + full.string() + "'");
  }
  if (files.empty()) return base::NotFound("no file matches '" + full.string() + "'");
  std::sort(files.begin(), files.end());  // a stable order makes the version id stable
  return files;
}

std::string RelativeName(const fs::path& project_dir, const fs::path& file) {
  std::error_code ec;
  fs::path rel = fs::relative(file, project_dir, ec);
  if (ec || rel.empty() || *rel.begin() == "..") return file.string();
  return rel.string();
}

// Everything in a source's definition that changes what lands in the lake. Changing any of it
// gives a new version even when the input bytes are the same.
std::string DefinitionHash(const config::SourceSpec& s) {
  std::string text = "format=" + std::string(config::Name(s.format)) +
                     ";compression=" + std::string(config::Name(s.compression)) +
                     ";extra=" + std::string(config::Name(s.extra_columns));
  if (s.format == config::FileFormat::kCsv) {
    text += ";delim=" + s.csv.delimiter + ";header=" + (s.csv.header ? "1" : "0") +
            ";quote=" + s.csv.quote + ";tsfmt=" + s.csv.timestamp_format.value_or("");
    for (const auto& n : s.csv.null_values)
      text += ";null=" + n;
  }
  for (const auto& f : s.columns) {
    text += ";col=" + f.name + ":" + std::string(types::LogicalTypeName(f.type)) +
            (f.nullable ? "" : "!");
  }
  return lake::Sha256Hex(text);
}

// DuckDB's errors carry a multi-line dump of reader settings; people need the first lines.
std::string ShortError(const std::string& message) {
  std::string out;
  size_t start = 0;
  for (int lines = 0; lines < 3 && start < message.size(); ++lines) {
    size_t end = message.find('\n', start);
    if (end == std::string::npos) end = message.size();
    std::string line = message.substr(start, end - start);
    if (line.empty()) break;
    if (line.size() > 200) line = line.substr(0, 200) + "...";
    out += (out.empty() ? "" : " | ") + line;
    start = end + 1;
  }
  return out;
}

bool IsCompressedName(const fs::path& p) {
  const std::string ext = p.extension().string();
  return ext == ".gz" || ext == ".zst" || ext == ".zstd";
}

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    const int len = c < 0x80           ? 1
                    : (c >> 5) == 0x6  ? 2
                    : (c >> 4) == 0xE  ? 3
                    : (c >> 3) == 0x1E ? 4
                                       : 0;
    if (len == 0 || i + len > s.size()) return false;
    for (int k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return false;
    }
    i += len;
  }
  return true;
}

// The declared columns that the direct JSON read may read as their type rather than as text:
// those whose every value in the file is of a kind (JsonLinesKeys::kinds) that read_json
// converts to the very value the per-line read gets by casting the value's text, and never
// fails to convert. Integers of at most 18 digits are exact as BIGINT and as the text of them;
// any number becomes the same DOUBLE either way (both parse it correctly rounded, and where
// read_json hands a number on as text, it is written so that it reads back as the same double);
// true and false are the same BOOLEAN either way. Casting the text costs a third of the direct
// read, mostly turning numbers into text and back. Strings are left as text: read_json would
// cast "1.5" to BIGINT where the text cast fails, and so on.
std::vector<std::string> JsonDirectTyped(const config::SourceSpec& s, const JsonLinesKeys& keys) {
  std::vector<std::string> typed;
  for (size_t i = 0; i < keys.keys.size(); ++i) {
    const types::Field* f = s.FindColumn(keys.keys[i]);
    if (f == nullptr) continue;
    std::uint8_t allowed = 0;
    if (f->type == types::LogicalType::kInt64) allowed = kJsonNull | kJsonInteger;
    if (f->type == types::LogicalType::kDouble)
      allowed = kJsonNull | kJsonInteger | kJsonOtherNumber;
    if (f->type == types::LogicalType::kBool) allowed = kJsonNull | kJsonBool;
    if (allowed != 0 && (keys.kinds[i] & ~allowed) == 0) typed.push_back(f->name);
  }
  return typed;
}

// What says a file is unchanged: the same inode, size and change times. Any write, truncation,
// rename or replacement of the file moves its ctime, which people cannot set back.
struct FileIdentity {
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t ctime_ns = 0;
  bool operator==(const FileIdentity&) const = default;
};

std::optional<FileIdentity> Identify(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) return std::nullopt;
  const auto ns = [](const timespec& t) {
    return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
  };
  return FileIdentity{st.st_dev, st.st_ino, st.st_size, ns(st.st_mtim), ns(st.st_ctim)};
}

// Stage timings of an ingest (`sluice --log-level debug ingest`).
class StageTimer : public base::StageTimer {
 public:
  explicit StageTimer(std::string_view stage) : base::StageTimer("ingest", stage) {}
};

// Lines with at least one byte: the records a CSV file can hold (blank lines are skipped).
base::Result<std::int64_t> CountNonEmptyLines(const fs::path& file) {
  std::FILE* f = std::fopen(file.c_str(), "rb");
  if (f == nullptr) return base::IoError("cannot read '" + file.string() + "'");
  std::vector<char> buf(1 << 20);
  std::int64_t lines = 0;
  char prev = '\n';
  for (size_t n; (n = std::fread(buf.data(), 1, buf.size(), f)) > 0;) {
    for (size_t i = 0; i < n; ++i) {
      if (buf[i] == '\n' && prev != '\n' && prev != '\r') ++lines;
      if (buf[i] != '\r' || prev == '\n') prev = buf[i];
    }
  }
  std::fclose(f);
  if (prev != '\n') ++lines;  // a last line without a newline
  return lines;
}

std::string NowIso(base::Clock& clock) {
  return base::FormatTime(clock.Now());
}

std::string ParquetList(const std::vector<fs::path>& files) {
  std::string out = "[";
  for (size_t i = 0; i < files.size(); ++i) {
    if (i) out += ", ";
    out += QuoteLiteral(files[i].string());
  }
  return out + "]";
}

struct FileOutcome {
  std::vector<fs::path> good_parts;
  fs::path quarantine;  // empty when nothing was quarantined
  std::int64_t loaded = 0;
  std::int64_t quarantined = 0;
};

class SourceIngest {
 public:
  SourceIngest(const config::SourceSpec& source, const IngestContext& ctx)
      : source_(source),
        ctx_(ctx),
        read_spec_(source),
        parquet_options_(ParquetOptions(ctx.project.lake.compression)) {}
  SourceIngest(const SourceIngest&) = delete;
  SourceIngest& operator=(const SourceIngest&) = delete;
  ~SourceIngest() {
    cancel_copies_ = true;
    if (copier_.joinable()) copier_.join();
  }

  base::Result<IngestReport> Run();

 private:
  base::Status Observe(const fs::path& file, std::vector<ObservedColumn>& observed);
  base::Result<std::optional<std::string>> FirstLine(const fs::path& file) const;
  // The name people know a file by: the original of a staged copy (see Run).
  std::string Shown(const fs::path& file) const {
    auto it = originals_.find(file.string());
    return it == originals_.end() ? file.string() : it->second;
  }
  // DuckDB's messages name the file it read: the staged copy, which people never saw.
  std::string Unstaged(std::string message) const {
    for (const auto& [staged, original] : originals_) {
      for (size_t at = 0; (at = message.find(staged, at)) != std::string::npos;) {
        message.replace(at, staged.size(), original);
        at += original.size();
      }
    }
    return message;
  }
  bool IsCompressed(const fs::path& file) const {
    return read_spec_.compression == config::Compression::kGzip ||
           read_spec_.compression == config::Compression::kZstd ||
           (read_spec_.compression == config::Compression::kAuto && IsCompressedName(file));
  }
  base::Result<FileOutcome> LoadFile(size_t index, const fs::path& file, const std::string& rel,
                                     const std::vector<std::string>& kept_extra);
  base::Status CheckRetyped(const fs::path& quarantine, std::int64_t records,
                            const std::string& rel);
  base::Result<bool> MapCsvRecordLines(const fs::path& file, const fs::path& rows_file,
                                       const ReaderPlan& reader, const std::string& scan,
                                       std::int64_t bad);
  void Progress(const std::string& stage, double fraction) {
    if (ctx_.progress) ctx_.progress(stage, fraction);
  }

  base::Status OpenDuckDb();
  bool Settled(const std::vector<fs::path>& files);
  void StartCopies(lake::Manifest& manifest, const std::vector<fs::path>& files);
  base::Status FinishCopies(lake::Manifest& manifest, size_t first_input);
  base::Result<IngestReport> RunPostgres(lake::Manifest manifest,
                                         const std::optional<lake::Manifest>& current);
  base::Result<IngestReport> LoadAndPublish(lake::Manifest manifest,
                                            const std::vector<fs::path>& files,
                                            const std::optional<lake::Manifest>& parent);

  const config::SourceSpec& source_;
  const IngestContext& ctx_;
  // How the rows are read: the source itself, or for PostgreSQL the CSV it was extracted to.
  config::SourceSpec read_spec_;
  const std::string parquet_options_;  // COPY ... TO options of the lake files (ParquetOptions)
  std::optional<warehouse::DuckDb> db_;
  std::optional<lake::StagingDir> staging_;
  std::vector<std::string> warnings_;
  std::vector<QuarantinedRow> samples_;
  double file_count_ = 1;
  std::vector<std::string> kept_extra_;
  std::map<std::string, std::vector<ObservedColumn>> observed_;  // by file, see Observe
  // JSON Lines: CountJsonObjectLines's answer by file, where the key scan gave it (Observe).
  std::map<std::string, std::optional<std::int64_t>> object_lines_;
  // JSON Lines: the declared columns the direct read may type, by file (see JsonDirectTyped).
  std::map<std::string, std::vector<std::string>> json_typed_;
  // The inputs copied into staging while they were hashed (see Run), in input order, and the
  // original path of each copy.
  std::vector<lake::StagedCopy> staged_;
  std::map<std::string, std::string> originals_;
  // Inputs read from another file than the one stored (a JSON Lines file without its BOM).
  std::map<std::string, fs::path> read_paths_;
  fs::path ReadPath(const fs::path& file) const {
    auto it = read_paths_.find(file.string());
    return it == read_paths_.end() ? file : it->second;
  }
  // Or, for inputs that had settled (see Run): the originals are read, while copier_ hashes and
  // copies them into staged_; what they were like before (identities_) is checked again once
  // everything has read them (FinishCopies).
  std::vector<fs::path> copied_;
  std::vector<FileIdentity> identities_;
  std::thread copier_;
  std::atomic<bool> cancel_copies_{false};
  base::Status copier_status_;
};

// Whether an uncompressed file starts with a UTF-8 byte-order mark.
base::Result<bool> StartsWithUtf8Bom(const fs::path& file, bool compressed) {
  if (compressed) return false;
  std::FILE* f = std::fopen(file.c_str(), "rb");
  if (f == nullptr) return base::IoError("cannot read '" + file.string() + "'");
  char head[3] = {};
  const size_t n = std::fread(head, 1, sizeof(head), f);
  std::fclose(f);
  return n == kUtf8Bom.size() && std::string_view(head, n) == kUtf8Bom;
}

// Copies `file` without its first `skip` bytes (a byte-order mark DuckDB's JSON reader refuses).
base::Status CopySkipping(const fs::path& file, const fs::path& dest, size_t skip) {
  std::FILE* in = std::fopen(file.c_str(), "rb");
  if (in == nullptr) return base::IoError("cannot read '" + file.string() + "'");
  std::FILE* out = std::fopen(dest.c_str(), "wb");
  if (out == nullptr) {
    std::fclose(in);
    return base::IoError("cannot create '" + dest.string() + "'");
  }
  std::vector<char> buf(1 << 20);
  bool ok = std::fseek(in, static_cast<long>(skip), SEEK_SET) == 0;
  while (ok) {
    const size_t n = std::fread(buf.data(), 1, buf.size(), in);
    if (n == 0) {
      ok = !std::ferror(in);
      break;
    }
    ok = std::fwrite(buf.data(), 1, n, out) == n;
  }
  std::fclose(in);
  ok = std::fclose(out) == 0 && ok;
  if (!ok) return base::IoError("cannot write '" + dest.string() + "'");
  return base::Status::Ok();
}

// The header line of an uncompressed CSV file, read directly so a bad header is reported as
// such; nullopt for compressed files.
base::Result<std::optional<std::string>> SourceIngest::FirstLine(const fs::path& file) const {
  if (IsCompressed(file)) return std::optional<std::string>();
  std::FILE* f = std::fopen(file.c_str(), "rb");
  if (f == nullptr) return base::IoError("cannot read '" + Shown(file) + "'");
  std::string line;
  for (int c; (c = std::fgetc(f)) != EOF && c != '\n';) {
    line += static_cast<char>(c);
    if (line.size() > (64U << 20)) break;
  }
  std::fclose(f);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  // A byte-order mark is not part of the first column's name (DuckDB skips it in the data).
  if (line.rfind(kUtf8Bom, 0) == 0) line.erase(0, kUtf8Bom.size());
  if (!IsValidUtf8(line)) {
    return base::InvalidArgument("'" + Shown(file) +
                                 "': the header line (line 1) is not valid UTF-8");
  }
  return std::optional<std::string>(std::move(line));
}

base::Status SourceIngest::Observe(const fs::path& input, std::vector<ObservedColumn>& observed) {
  const fs::path file = ReadPath(input);
  // The contract check observes every file before any loads, and LoadFile needs the same
  // columns again: for JSON Lines that is a scan of the whole file, so it is done once.
  if (auto it = observed_.find(file.string()); it != observed_.end()) {
    observed = it->second;
    return base::Status::Ok();
  }
  // An uncompressed CSV header is read directly: DuckDB's one-line query below reads (and
  // holds in memory) far more of the file than its first line. Where the direct read fails,
  // the query runs first as it always did, so errors stay the same.
  std::optional<std::string> header;
  if (read_spec_.format == config::FileFormat::kCsv) {
    auto first = FirstLine(file);
    if (first.ok() && first->has_value()) header = std::move(**first);
  }
  if (read_spec_.format == config::FileFormat::kJsonl && !IsCompressed(file)) {
    // One strict pass over the bytes finds the keys (and the line count the direct read needs)
    // at a fraction of DuckDB's cost; where it is unsure of DuckDB's answer, DuckDB is asked.
    const int parts =
        ctx_.threads > 0 ? ctx_.threads : static_cast<int>(std::thread::hardware_concurrency());
    auto scanned = ScanJsonLinesKeysFile(file, parts);
    if (scanned.ok() && scanned->has_value()) {
      object_lines_[file.string()] = (*scanned)->object_lines;
      json_typed_[file.string()] = JsonDirectTyped(read_spec_, **scanned);
      observed = ToObserved(read_spec_, (*scanned)->keys, {});
      observed_[file.string()] = observed;
      return base::Status::Ok();
    }
    base::LogDebug("ingest: " + Shown(file) + ": DuckDB reads the keys (" +
                   (scanned.ok() ? "the scan was unsure" : scanned.status().message()) + ")");
  }
  std::optional<base::Result<types::Batch>> fast;
  if (read_spec_.format == config::FileFormat::kJsonl) {
    // Nearly always every line has the same keys; then a parallel scan finds them (see
    // JsonKeySetsSql), and only files whose lines differ pay for the numbered scan.
    fast.emplace(db_->Query(JsonKeySetsSql(read_spec_, file.string())));
    if (!fast->ok() || ((*fast)->num_rows() > 0 && (*fast)->column(2).GetInt64(0) > 1)) {
      fast.reset();
    }
  }
  auto described = header ? base::Result<types::Batch>(types::Batch(types::Schema()))
                   : fast ? std::move(*fast)
                          : db_->Query(ObserveSql(read_spec_, file.string()));
  if (!described.ok()) {
    return base::InvalidArgument("cannot read '" + Shown(file) + "' as " +
                                 std::string(config::Name(read_spec_.format)) + ": " +
                                 Unstaged(ShortError(described.status().message())));
  }
  std::vector<std::string> names, types;
  if (read_spec_.format == config::FileFormat::kCsv) {
    std::optional<std::string> first = header;
    if (!first) {
      SLUICE_ASSIGN_OR_RETURN(first, FirstLine(file));
    }
    if (!first) {
      // Compressed: DuckDB decompresses; it skips an unreadable first line, which then shows
      // up as a contract error naming the second line's values.
      if (described->num_rows() == 0 || !described->column(0).IsValid(0)) {
        return base::InvalidArgument("'" + Shown(file) + "' has no header line");
      }
      first = std::string(described->column(0).GetString(0));
    }
    names = SplitCsvHeader(*first, read_spec_.csv.delimiter[0],
                           read_spec_.csv.quote.empty() ? '\0' : read_spec_.csv.quote[0]);
  } else {
    for (size_t r = 0; r < described->num_rows(); ++r) {
      names.emplace_back(described->column(0).GetString(r));
      types.emplace_back(described->column(1).GetString(r));
    }
  }
  if (read_spec_.format == config::FileFormat::kCsv && !read_spec_.csv.header) {
    // Without a header, columns are matched by position to the declaration.
    for (size_t i = 0; i < names.size(); ++i) {
      names[i] = i < read_spec_.columns.size() ? read_spec_.columns[i].name
                                               : "column" + std::to_string(i + 1);
    }
  }
  observed = ToObserved(read_spec_, names, types);
  observed_[file.string()] = observed;
  return base::Status::Ok();
}

base::Result<FileOutcome> SourceIngest::LoadFile(size_t index, const fs::path& input,
                                                 const std::string& rel,
                                                 const std::vector<std::string>& kept_extra) {
  const fs::path file = ReadPath(input);
  FileOutcome out;
  std::error_code size_ec;
  if (fs::file_size(file, size_ec) == 0 && !size_ec) {
    warnings_.push_back(rel + ": the file is empty (0 bytes): no rows");
    return out;
  }
  std::vector<ObservedColumn> observed;
  SLUICE_RETURN_IF_ERROR(Observe(file, observed));
  const std::string scan = "sluice_scan_" + std::to_string(index);
  const std::string n = std::to_string(index);
  const fs::path rows_file = staging_->path() / ("rows-" + n + ".parquet");
  const auto copy_to_rows_file = [&](const std::string& select) {
    return db_->ExecuteWithProgress(
        "COPY (" + select + ") TO " + QuoteLiteral(rows_file.string()) + parquet_options_,
        [&](double f) {
          Progress("loading " + rel, (static_cast<double>(index) + f) / file_count_);
        });
  };
  const auto copy_rows = [&](const ReaderPlan& plan) {
    return copy_to_rows_file("SELECT * EXCLUDE (__sluice_bad) FROM (" +
                             ValidateSql(read_spec_, plan, kept_extra) + ")");
  };
  // The typed columns alone, for a file with nothing to quarantine (see CleanRowsSql): true when
  // that is what `rows_file` now holds, false when a row to quarantine stopped the copy. The
  // failed statement is rolled back, the reader's rejects table with it. A file with bad rows
  // pays for the partial read up to its first bad row.
  const auto copy_clean_rows = [&](const ReaderPlan& plan) -> base::Result<bool> {
    const base::Status copied = copy_to_rows_file(CleanRowsSql(read_spec_, plan, kept_extra));
    if (copied.ok()) return true;
    if (copied.message().find(kBadRowError) == std::string::npos) return copied;
    std::error_code ec;
    fs::remove(rows_file, ec);
    return false;
  };
  const std::string rows = "read_parquet(" + QuoteLiteral(rows_file.string()) + ")";
  // Whether the file is known to hold a row to quarantine: then the copy of clean rows is not
  // tried (again).
  bool known_bad = false;
  if (read_spec_.format == config::FileFormat::kJsonl && ctx_.direct_json && !IsCompressed(file)) {
    // The usual JSON Lines file, one object per line, is read by read_json straight into
    // columns. It stands for the per-line read only where it provably read the same rows: one
    // per line (CountJsonObjectLines), no read error, and no row the validation rejects (a
    // quarantined row needs its line's text, which only the per-line read keeps). Otherwise the
    // per-line read below runs as if this had not been tried. read_json stops at a malformed
    // line, but a well-formed file with values to quarantine is read in full twice: the price of
    // keeping the per-line read's raw lines and line numbers for those rows.
    std::optional<StageTimer> timer(std::in_place, "direct JSON read " + rel);
    std::optional<std::int64_t> lines;
    if (auto known = object_lines_.find(file.string()); known != object_lines_.end()) {
      lines = known->second;  // the key scan counted them
    } else {
      SLUICE_ASSIGN_OR_RETURN(lines, CountJsonObjectLines(file));
    }
    std::string fallback = "a blank line or byte order mark";
    if (lines) {
      const auto typed = json_typed_.find(file.string());
      const ReaderPlan direct =
          PlanReader(read_spec_, file.string(), observed, scan,
                     /*number_rows=*/false, /*json_direct=*/true,
                     typed == json_typed_.end() ? std::vector<std::string>() : typed->second);
      // On all threads. DuckDB's order-preserving parallel COPY may cut the same rows into
      // other row groups from one run to the next (by which batch another thread has
      // finished); the version id does not depend on those bytes (lake::ComputeManifestId).
      const base::Result<bool> copied = copy_clean_rows(direct);
      if (!copied.ok()) {
        fallback = "read error: " + Unstaged(ShortError(copied.status().message()));
      } else if (!*copied) {
        known_bad = true;
        fallback = "a row to quarantine";
      } else {
        SLUICE_ASSIGN_OR_RETURN(const std::int64_t total,
                                db_->QueryScalarInt64("SELECT count(*) FROM " + rows));
        if (total == *lines) {
          out.loaded = total;
          if (total > 0) out.good_parts = {rows_file};
          return out;
        }
        fallback = std::to_string(total) + " rows from " + std::to_string(*lines) + " lines";
      }
    }
    base::LogDebug("ingest: " + rel + ": the per-line JSON read runs (" + fallback + ")");
    std::error_code ec;
    fs::remove(rows_file, ec);
  }
  // Every row the reader produces, good and bad, goes into one file, in input order. Neither
  // row_number() OVER () nor PARTITION_BY: either makes DuckDB run the scan, the validation or
  // the Parquet writer on one thread, or write rows in whatever order its threads finish.
  // Written this way, all threads work, preserve_insertion_order keeps the rows in input order
  // (the row-group cuts may vary between runs, which the version id does not depend on), and a
  // row's position in the file (file_row_number) is its record number.
  // JSON Lines that mix LF and CRLF need a slower line split (see JsonLinesSql). An uncompressed
  // file's line ends are looked at first. A compressed one is split the fast way, and again the
  // slow way if that gave an empty line, as it does for a mixed file (a file that really has an
  // empty line pays for the second read).
  const bool jsonl = read_spec_.format == config::FileFormat::kJsonl;
  bool mixed_line_ends = false;
  if (jsonl && !IsCompressed(file)) {
    SLUICE_ASSIGN_OR_RETURN(const LineEnds ends, ScanLineEnds(file));
    mixed_line_ends = ends.Mixed();
  }
  ReaderPlan reader = PlanReader(read_spec_, file.string(), observed, scan,
                                 /*number_rows=*/false, /*json_direct=*/false, {}, mixed_line_ends);
  std::optional<StageTimer> timer(std::in_place, "validate and copy " + rel);
  const auto cannot_read = [&](const base::Status& s) {
    return base::InvalidArgument("cannot read '" + rel + "': " + Unstaged(ShortError(s.message())));
  };
  bool clean = false;
  if (!known_bad) {
    const base::Result<bool> tried = copy_clean_rows(reader);
    if (!tried.ok()) return cannot_read(tried.status());
    clean = *tried;
    if (!clean) base::LogDebug("ingest: " + rel + ": read again to quarantine its bad rows");
  }
  base::Status copied;
  if (!clean) copied = copy_rows(reader);
  if (!clean && copied.ok() && jsonl && IsCompressed(file)) {
    SLUICE_ASSIGN_OR_RETURN(const std::int64_t empty,
                            db_->QueryScalarInt64("SELECT count(*) FROM " + rows +
                                                  " WHERE __sluice_reason = 'empty line'"));
    if (empty > 0) {
      base::LogDebug("ingest: " + rel + ": read again with LF and CRLF line ends");
      std::error_code ec;
      fs::remove(rows_file, ec);
      reader = PlanReader(read_spec_, file.string(), observed, scan, /*number_rows=*/false,
                          /*json_direct=*/false, {}, /*mixed_line_ends=*/true);
      copied = copy_rows(reader);
    }
  }
  if (!copied.ok()) return cannot_read(copied);
  timer.emplace("count and quarantine " + rel);
  SLUICE_ASSIGN_OR_RETURN(const std::int64_t total,
                          db_->QueryScalarInt64("SELECT count(*) FROM " + rows));
  // __sluice_reason is NULL exactly for good rows; Parquet's null counts answer this cheaply.
  std::int64_t bad = 0;
  if (!clean) {
    SLUICE_ASSIGN_OR_RETURN(bad, db_->QueryScalarInt64("SELECT count(*) FROM " + rows +
                                                       " WHERE __sluice_reason IS NOT NULL"));
  }
  out.loaded = total - bad;
  std::vector<std::string> parts;
  if (bad == 0) {
    if (total > 0) out.good_parts = {rows_file};
  } else {
    // Rare and bounded by the error budget: the good rows are copied out, in order.
    const fs::path good = staging_->path() / ("good-" + n + ".parquet");
    if (out.loaded > 0) {
      SLUICE_RETURN_IF_ERROR(db_->Execute("COPY (SELECT * FROM " + rows +
                                          " WHERE __sluice_reason IS NULL) TO " +
                                          QuoteLiteral(good.string()) + parquet_options_));
      out.good_parts = {good};
    }
    const std::string position = "(file_row_number + 1)";
    std::string line = reader.rows_numbered || !reader.lines_are_rows ? "__sluice_line" : position;
    const std::string record = reader.rows_numbered ? "__sluice_record" : position;
    std::string join;
    if (!reader.rejects_table.empty()) {
      SLUICE_ASSIGN_OR_RETURN(const bool mapped,
                              MapCsvRecordLines(file, rows_file, reader, scan, bad));
      if (mapped) {
        join = " LEFT JOIN " + QuoteIdentifier(scan + "_lines") + " m ON m.record = " + position;
        line = "coalesce(__sluice_line, m.line)";
      }
    }
    // One quarantine file per input: rows the validation rejected plus lines the CSV reader
    // rejected (several reader errors on one line become one row).
    parts.push_back("SELECT " + line + " AS line, " + record +
                    " AS record, __sluice_column AS \"column\", __sluice_kind AS kind, "
                    "__sluice_reason AS reason, __sluice_raw AS raw FROM read_parquet(" +
                    QuoteLiteral(rows_file.string()) + ", file_row_number=true)" + join +
                    " WHERE __sluice_reason IS NOT NULL");
  }
  if (!reader.rejects_table.empty()) {
    parts.push_back(
        "SELECT line::BIGINT AS line, NULL::BIGINT AS record, min(column_name) AS \"column\", "
        "CASE WHEN bool_and(error_type::VARCHAR = 'CAST') THEN 'conversion' ELSE 'malformed' END "
        // A ragged row is one error per column too many (the last counts them all) or too few
        // (the first does): one says it.
        "AS kind, CASE WHEN bool_or(error_type::VARCHAR = 'TOO MANY COLUMNS') THEN "
        "arg_max(error_message, column_idx) FILTER (WHERE error_type::VARCHAR = 'TOO MANY "
        "COLUMNS') WHEN bool_or(error_type::VARCHAR = 'MISSING COLUMNS') THEN "
        "arg_min(error_message, column_idx) FILTER (WHERE error_type::VARCHAR = 'MISSING "
        "COLUMNS') ELSE string_agg(error_message, '; ' ORDER BY column_idx) END AS reason, "
        "any_value(csv_line) AS raw FROM " +
        QuoteIdentifier(reader.rejects_table) + " GROUP BY line");
  }
  // An unterminated quote makes the CSV reader take the lines after it as part of one value:
  // those rows are neither loaded nor rejected one by one. Count the file's non-empty lines to
  // account for them, so nothing disappears from the counts.
  std::int64_t swallowed = 0;
  if (!reader.rejects_table.empty() && !IsCompressed(file)) {
    auto unterminated = db_->QueryScalarInt64("SELECT coalesce(min(line), 0)::BIGINT FROM " +
                                              QuoteIdentifier(reader.rejects_table) +
                                              " WHERE error_message ILIKE '%unterminated quote%'");
    if (unterminated.ok() && *unterminated > 0) {
      SLUICE_ASSIGN_OR_RETURN(std::int64_t lines, CountNonEmptyLines(file));
      SLUICE_ASSIGN_OR_RETURN(std::int64_t rejected_lines,
                              db_->QueryScalarInt64("SELECT count(DISTINCT line) FROM " +
                                                    QuoteIdentifier(reader.rejects_table)));
      const std::int64_t accounted = total + rejected_lines + (read_spec_.csv.header ? 1 : 0);
      swallowed = std::max<std::int64_t>(0, lines - accounted);
      if (swallowed > 0) {
        parts.push_back("SELECT " + std::to_string(*unterminated) +
                        "::BIGINT AS line, NULL::BIGINT AS record, NULL::VARCHAR AS \"column\", "
                        "'malformed' AS kind, " +
                        QuoteLiteral(std::to_string(swallowed) +
                                     " following line(s) were read into the unterminated quoted "
                                     "value that starts on this line; they are counted as "
                                     "quarantined") +
                        " AS reason, NULL::VARCHAR AS raw");
        warnings_.push_back(rel + ": " + std::to_string(swallowed) +
                            " line(s) after the unterminated quote on line " +
                            std::to_string(*unterminated) + " are quarantined with it");
      }
    }
  }
  if (!parts.empty()) {
    std::string all;
    for (const auto& p : parts)
      all += (all.empty() ? "" : " UNION ALL ") + p;
    out.quarantine = staging_->path() / ("quarantine-" + std::to_string(index) + ".parquet");
    // A reason quoting raw text keeps a NUL byte of it escaped: readers of the quarantine
    // (C strings, terminals) would stop at it.
    SLUICE_RETURN_IF_ERROR(db_->Execute("COPY (SELECT " + QuoteLiteral(rel) +
                                        " AS file, * REPLACE (replace(reason, chr(0), '\\0') AS "
                                        "reason) FROM (" +
                                        all + ") ORDER BY line NULLS LAST, record) TO " +
                                        QuoteLiteral(out.quarantine.string()) + parquet_options_));
    SLUICE_ASSIGN_OR_RETURN(out.quarantined,
                            db_->QueryScalarInt64("SELECT count(*) FROM read_parquet(" +
                                                  QuoteLiteral(out.quarantine.string()) + ")"));
    // The note row for swallowed lines stands for all of them.
    if (swallowed > 0) out.quarantined += swallowed - 1;
    if (out.quarantined == 0) {
      out.quarantine.clear();
    } else {
      SLUICE_RETURN_IF_ERROR(CheckRetyped(out.quarantine, out.loaded + out.quarantined, rel));
      if (static_cast<int>(samples_.size()) < kQuarantineSamples) {
        auto rows =
            db_->Query("SELECT file, line, record, \"column\", reason, raw FROM read_parquet(" +
                       QuoteLiteral(out.quarantine.string()) + ") LIMIT " +
                       std::to_string(kQuarantineSamples - samples_.size()));
        if (rows.ok()) {
          for (size_t r = 0; r < rows->num_rows(); ++r) {
            QuarantinedRow q;
            q.file = std::string(rows->column(0).GetString(r));
            if (rows->column(1).IsValid(r)) q.line = rows->column(1).GetInt64(r);
            if (rows->column(2).IsValid(r)) q.record = rows->column(2).GetInt64(r);
            q.column = rows->column(3).IsValid(r) ? std::string(rows->column(3).GetString(r)) : "";
            q.reason = std::string(rows->column(4).GetString(r));
            q.raw = rows->column(5).IsValid(r) ? std::string(rows->column(5).GetString(r)) : "";
            samples_.push_back(std::move(q));
          }
        }
      }
    }
  }
  if (!reader.rejects_table.empty()) {
    (void)db_->Execute("DROP TABLE IF EXISTS " + QuoteIdentifier(reader.rejects_table) +
                       "; DROP TABLE IF EXISTS " + QuoteIdentifier(scan + "_scans") +
                       "; DROP TABLE IF EXISTS " + QuoteIdentifier(scan + "_lines"));
  }
  return out;
}

// CSV rows the validation rejected (a bad timestamp, a missing required value) are known by
// their record number among the rows the reader accepted. Their lines are found by walking the
// file's records (CsvRecordLines) past the header and the lines the reader rejected, into the
// table <scan>_lines (record, line). False where that cannot be done or trusted: compressed
// files, more bad rows than are worth a table, or a walk that does not find as many accepted
// records as the reader did; those rows keep only their record number.
base::Result<bool> SourceIngest::MapCsvRecordLines(const fs::path& file, const fs::path& rows_file,
                                                   const ReaderPlan& reader,
                                                   const std::string& scan, std::int64_t bad) {
  constexpr std::int64_t kMaxMapped = 1'000'000;
  if (IsCompressed(file) || bad > kMaxMapped) return false;
  SLUICE_ASSIGN_OR_RETURN(
      types::Batch records,
      db_->Query("SELECT file_row_number + 1 FROM read_parquet(" +
                 QuoteLiteral(rows_file.string()) +
                 ", file_row_number=true) WHERE __sluice_reason IS NOT NULL ORDER BY 1"));
  SLUICE_ASSIGN_OR_RETURN(types::Batch rejected,
                          db_->Query("SELECT DISTINCT line::BIGINT FROM " +
                                     QuoteIdentifier(reader.rejects_table) + " ORDER BY 1"));
  SLUICE_ASSIGN_OR_RETURN(const std::int64_t accepted,
                          db_->QueryScalarInt64("SELECT count(*) FROM read_parquet(" +
                                                QuoteLiteral(rows_file.string()) + ")"));
  std::vector<std::int64_t> wanted, skipped;
  for (size_t r = 0; r < records.num_rows(); ++r)
    wanted.push_back(records.column(0).GetInt64(r));
  for (size_t r = 0; r < rejected.num_rows(); ++r)
    skipped.push_back(rejected.column(0).GetInt64(r));
  SLUICE_ASSIGN_OR_RETURN(
      std::optional<std::vector<std::int64_t>> lines,
      CsvRecordLines(file, read_spec_.csv.quote.empty() ? '\0' : read_spec_.csv.quote[0],
                     read_spec_.csv.header, skipped, wanted, accepted));
  if (!lines) {
    base::LogDebug("ingest: " + Shown(file) +
                   ": rows rejected after reading keep their record numbers (the file's records "
                   "could not be matched to the reader's)");
    return false;
  }
  SLUICE_ASSIGN_OR_RETURN(types::Schema schema,
                          types::Schema::Make({{"record", types::LogicalType::kInt64, false},
                                               {"line", types::LogicalType::kInt64, false}}));
  types::Batch map(schema);
  for (size_t i = 0; i < wanted.size(); ++i) {
    map.column(0).AppendInt64(wanted[i]);
    map.column(1).AppendInt64((*lines)[i]);
  }
  const std::string table = scan + "_lines";
  SLUICE_RETURN_IF_ERROR(db_->CreateTable(table, schema, /*replace_existing=*/true));
  SLUICE_RETURN_IF_ERROR(db_->Append(table, map));
  return true;
}

// A column whose values (nearly) all fail to convert was retyped at the source: a schema change
// that must stop the ingest, not a pile of quarantined rows.
base::Status SourceIngest::CheckRetyped(const fs::path& quarantine, std::int64_t records,
                                        const std::string& rel) {
  if (records < 1) return base::Status::Ok();
  auto per_column = db_->Query(
      "SELECT \"column\", count(*)::BIGINT AS n, min(reason) AS example FROM read_parquet(" +
      QuoteLiteral(quarantine.string()) +
      ") WHERE kind = 'conversion' AND \"column\" IS NOT NULL GROUP BY 1 ORDER BY 1");
  SLUICE_RETURN_IF_ERROR(per_column.status());
  std::string errors;
  for (size_t r = 0; r < per_column->num_rows(); ++r) {
    const std::int64_t n = per_column->column(1).GetInt64(r);
    if (n * 10 >= records * 9) {
      const std::string column(per_column->column(0).GetString(r));
      const types::Field* f = source_.FindColumn(column);
      errors +=
          (errors.empty() ? "" : "\n") + rel + ": column '" + column + "' was retyped: declared " +
          std::string(f ? types::LogicalTypeName(f->type) : "?") + ", but " + std::to_string(n) +
          " of " + std::to_string(records) + " values cannot be read as such (first: " +
          std::string(per_column->column(2).GetString(r)) + ")";
    }
  }
  if (!errors.empty()) return base::SchemaMismatch(errors);
  return base::Status::Ok();
}

// Whether new inputs may be read in place while they are hashed and copied (StartCopies):
// where every one was last changed at least input_settle_seconds ago. Then any change during
// the run moves its ctime past the one seen now, which FinishCopies detects; a file changed
// just before it was first looked at could change again within the same clock tick unseen.
bool SourceIngest::Settled(const std::vector<fs::path>& files) {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  const auto now_ns = static_cast<std::int64_t>(now.tv_sec) * 1'000'000'000 + now.tv_nsec;
  const auto settle_ns = static_cast<std::int64_t>(ctx_.input_settle_seconds * 1e9);
  identities_.clear();
  for (const auto& f : files) {
    const std::optional<FileIdentity> id = Identify(f);
    if (!id || now_ns - std::max(id->mtime_ns, id->ctime_ns) < settle_ns) return false;
    identities_.push_back(*id);
  }
  return true;
}

// Hashing and copying the inputs costs about a second per GB on one core. Done before DuckDB
// starts, as for unsettled inputs, that second is added to the run; here it runs beside the
// contract check and DuckDB's read of the same (settled) files.
void SourceIngest::StartCopies(lake::Manifest& manifest, const std::vector<fs::path>& files) {
  copied_ = files;
  for (size_t i = 0; i < files.size(); ++i) {
    // The hash is filled in by FinishCopies; the size is known.
    manifest.inputs.push_back({RelativeName(ctx_.project.dir, files[i]), "",
                               static_cast<std::uint64_t>(identities_[i].size)});
  }
  copier_ = std::thread([this] {
    for (size_t i = 0; i < copied_.size(); ++i) {
      // The copy keeps the name's extension, like the copies DuckDB reads (see Run).
      auto copy = lake::StagedCopy::Make(
          copied_[i],
          staging_->path() / ("input-" + std::to_string(i) + "-" + copied_[i].filename().string()),
          &cancel_copies_, lake::StagedCopy::Cache::kBypass);
      if (!copy.ok()) {
        copier_status_ = copy.status();
        return;
      }
      staged_.push_back(std::move(copy).value());
    }
  });
}

// Waits for the copies of StartCopies and checks that no original changed since the run first
// looked at it: then DuckDB, the key scan and the copy all read the same bytes, the ones stored.
base::Status SourceIngest::FinishCopies(lake::Manifest& manifest, size_t first_input) {
  if (!copier_.joinable()) return base::Status::Ok();
  copier_.join();
  SLUICE_RETURN_IF_ERROR(copier_status_);
  for (size_t i = 0; i < copied_.size(); ++i) {
    lake::InputFile& input = manifest.inputs[first_input + i];
    if (Identify(copied_[i]) != identities_[i] ||
        staged_[i].bytes() != static_cast<std::uint64_t>(identities_[i].size)) {
      return base::IoError("'" + input.path + "' changed while it was being ingested; run again",
                           /*retryable=*/true);
    }
    input.sha256 = staged_[i].sha256();
  }
  return base::Status::Ok();
}

base::Status SourceIngest::OpenDuckDb() {
  warehouse::DuckDb::Options db_options;
  db_options.threads = ctx_.threads;
  SLUICE_ASSIGN_OR_RETURN(warehouse::DuckDb db, warehouse::DuckDb::Open(":memory:", db_options));
  db_.emplace(std::move(db));
  return db_->Execute("SET TimeZone = 'UTC'; SET preserve_insertion_order = true");
}

base::Result<IngestReport> SourceIngest::Run() {
  lake::Manifest manifest;
  manifest.dataset = source_.name;
  manifest.kind = "source";
  manifest.definition_hash = DefinitionHash(source_);
  manifest.sluice_version = base::kBuildVersion;
  SLUICE_ASSIGN_OR_RETURN(std::optional<lake::Manifest> current, ctx_.lake.Current(source_.name));

  if (source_.type == config::SourceType::kPostgres)
    return RunPostgres(std::move(manifest), current);
  if (source_.type != config::SourceType::kFile) {
    return base::FailedPrecondition("source '" + source_.name + "' has type " +
                                    std::string(config::Name(source_.type)) +
                                    "; `sluice ingest` reads file and postgres sources");
  }

  Progress("hashing", -1);
  std::optional<StageTimer> timer(std::in_place, "hashing inputs");
  SLUICE_ASSIGN_OR_RETURN(std::vector<fs::path> files,
                          ResolveFiles(ctx_.project.dir, source_.path));
  // Where the inputs differ in name or size from the current version's, they are new: each is
  // copied into staging in the pass that hashes it, and read from there. That saves hashing
  // and copying it again when it is stored, and the loaded rows come from exactly the stored
  // bytes. Where they may be unchanged, they are only hashed, so that a re-run of unchanged
  // inputs writes nothing.
  bool maybe_unchanged = current && current->definition_hash == manifest.definition_hash &&
                         current->inputs.size() == files.size();
  for (size_t i = 0; maybe_unchanged && i < files.size(); ++i) {
    std::error_code ec;
    const auto bytes = fs::file_size(files[i], ec);
    maybe_unchanged = !ec && current->inputs[i].path == RelativeName(ctx_.project.dir, files[i]) &&
                      current->inputs[i].bytes == bytes;
  }
  if (!maybe_unchanged) {
    SLUICE_ASSIGN_OR_RETURN(lake::StagingDir staging, lake::StagingDir::Create(ctx_.lake.root()));
    staging_.emplace(std::move(staging));
  }
  if (!maybe_unchanged && Settled(files)) {
    StartCopies(manifest, files);
  }
  for (size_t i = 0; copied_.empty() && i < files.size(); ++i) {
    const fs::path& f = files[i];
    if (!maybe_unchanged) {
      // The copy keeps the name's extension: DuckDB detects compression by it.
      SLUICE_ASSIGN_OR_RETURN(
          lake::StagedCopy copy,
          lake::StagedCopy::Make(
              f, staging_->path() / ("input-" + std::to_string(i) + "-" + f.filename().string())));
      manifest.inputs.push_back({RelativeName(ctx_.project.dir, f), copy.sha256(), copy.bytes()});
      originals_[copy.path().string()] = f.string();
      files[i] = copy.path();
      staged_.push_back(std::move(copy));
      continue;
    }
    SLUICE_ASSIGN_OR_RETURN(std::string sha, lake::Sha256File(f));
    std::error_code ec;
    const auto bytes = fs::file_size(f, ec);
    manifest.inputs.push_back({RelativeName(ctx_.project.dir, f), sha, ec ? 0 : bytes});
  }
  for (size_t i = 0; i < files.size(); ++i) {
    SLUICE_ASSIGN_OR_RETURN(manifest.inputs[i].utf8_bom,
                            StartsWithUtf8Bom(files[i], IsCompressed(files[i])));
  }
  // Unchanged inputs under an unchanged definition: the current version already holds them.
  if (current && current->inputs == manifest.inputs &&
      current->definition_hash == manifest.definition_hash) {
    IngestReport report;
    report.source = source_.name;
    report.manifest = *current;
    return report;
  }
  timer.emplace("contract check");
  if (!staging_) {
    SLUICE_ASSIGN_OR_RETURN(lake::StagingDir staging, lake::StagingDir::Create(ctx_.lake.root()));
    staging_.emplace(std::move(staging));
  }
  SLUICE_RETURN_IF_ERROR(OpenDuckDb());
  // DuckDB's CSV reader skips a byte-order mark; its JSON reader refuses one, so a JSON Lines
  // file that has one is read from a copy without it (the lake stores the bytes as they came).
  for (size_t i = 0; i < files.size(); ++i) {
    if (!manifest.inputs[i].utf8_bom || read_spec_.format != config::FileFormat::kJsonl) continue;
    const fs::path copy = staging_->path() / ("no-bom-" + std::to_string(i) + ".jsonl");
    SLUICE_RETURN_IF_ERROR(CopySkipping(files[i], copy, kUtf8Bom.size()));
    read_paths_[files[i].string()] = copy;
    originals_[copy.string()] = Shown(files[i]);
  }

  // Contract first, for every file, so a shape change stops the ingest before any data moves.
  SLUICE_ASSIGN_OR_RETURN(types::Schema declared, source_.Schema());
  const ExtraColumnPolicy policy =
      source_.extra_columns == config::ExtraColumns::kKeep   ? ExtraColumnPolicy::kKeep
      : source_.extra_columns == config::ExtraColumns::kWarn ? ExtraColumnPolicy::kWarn
                                                             : ExtraColumnPolicy::kFail;
  std::vector<std::string> contract_errors;
  bool first_checked = true;
  for (size_t i = 0; i < files.size(); ++i) {
    if (manifest.inputs[i].bytes == 0) continue;  // empty: no columns to check, no rows
    std::vector<ObservedColumn> observed;
    SLUICE_RETURN_IF_ERROR(Observe(files[i], observed));
    ContractResult c = CheckContract(declared, observed, policy, manifest.inputs[i].path);
    contract_errors.insert(contract_errors.end(), c.errors.begin(), c.errors.end());
    warnings_.insert(warnings_.end(), c.warnings.begin(), c.warnings.end());
    if (first_checked) {
      kept_extra_ = c.kept_extra_columns;
      first_checked = false;
    } else if (c.kept_extra_columns != kept_extra_) {
      contract_errors.push_back(manifest.inputs[i].path +
                                ": its extra columns differ from those of the first file "
                                "(extra_columns: keep needs the same extra columns in every file)");
    }
  }
  if (!contract_errors.empty()) {
    std::string text = "source '" + source_.name + "' does not match its declared columns:";
    for (const auto& e : contract_errors)
      text += "\n  " + e;
    return base::SchemaMismatch(text);
  }
  timer.reset();
  return LoadAndPublish(std::move(manifest), files, std::nullopt);
}

base::Result<IngestReport> SourceIngest::RunPostgres(lake::Manifest manifest,
                                                     const std::optional<lake::Manifest>& current) {
  // Contract against the live relation before extracting anything.
  Progress("describing " + DescribeConnection(source_.connection), -1);
  SLUICE_ASSIGN_OR_RETURN(std::vector<ObservedColumn> observed, DescribePostgres(source_));
  SLUICE_ASSIGN_OR_RETURN(types::Schema declared, source_.Schema());
  // Only declared columns are extracted, so undeclared ones can be ignored but never kept.
  const ExtraColumnPolicy policy = source_.extra_columns == config::ExtraColumns::kFail
                                       ? ExtraColumnPolicy::kFail
                                       : ExtraColumnPolicy::kWarn;
  const std::string relation = source_.table ? "table " + *source_.table : "query";
  ContractResult contract = CheckContract(declared, observed, policy, relation);
  warnings_ = contract.warnings;
  if (!contract.ok()) {
    std::string text = "source '" + source_.name + "' does not match its declared columns:";
    for (const auto& e : contract.errors)
      text += "\n  " + e;
    return base::SchemaMismatch(text);
  }

  // Incremental: continue after the cursor published with the current version, and build on
  // it. A crash before the publish leaves the old cursor in place, so the next run extracts the
  // same rows again: nothing skipped, nothing doubled.
  const bool incremental = source_.cursor.has_value() && current && current->cursor &&
                           current->definition_hash == manifest.definition_hash;
  const std::optional<std::string> after =
      incremental ? std::optional<std::string>(current->cursor->value) : std::nullopt;

  SLUICE_ASSIGN_OR_RETURN(lake::StagingDir staging, lake::StagingDir::Create(ctx_.lake.root()));
  staging_.emplace(std::move(staging));
  const fs::path extract_path = staging_->path() / "extract.csv";
  Progress("extracting " + relation, -1);
  SLUICE_ASSIGN_OR_RETURN(PostgresExtract extract, ExtractPostgres(source_, after, extract_path));
  SLUICE_ASSIGN_OR_RETURN(std::string sha, lake::Sha256File(extract_path));
  std::error_code ec;
  const auto bytes = fs::file_size(extract_path, ec);
  const lake::InputFile input{
      "postgres:" + DescribeConnection(source_.connection) + "/" +
          (source_.table ? *source_.table
                         : "query@" + lake::Sha256Hex(*source_.query).substr(0, 12)),
      sha, ec ? 0 : bytes};

  const bool nothing_new = incremental
                               ? extract.rows == 0
                               : (current && current->definition_hash == manifest.definition_hash &&
                                  current->inputs.size() == 1 && current->inputs[0].sha256 == sha);
  if (nothing_new) {
    IngestReport report;
    report.source = source_.name;
    report.manifest = *current;
    return report;
  }

  if (incremental) {
    manifest.inputs = current->inputs;
    manifest.parents = {current->id};
  }
  manifest.inputs.push_back(input);
  if (source_.cursor) {
    manifest.cursor = lake::Cursor{
        *source_.cursor, extract.max_cursor.value_or(incremental ? current->cursor->value : "")};
    if (!extract.max_cursor && !incremental) manifest.cursor.reset();
  }

  // The extract is CSV in sluice's own dialect; the same reader, contract and quarantine apply.
  read_spec_.type = config::SourceType::kFile;
  read_spec_.format = config::FileFormat::kCsv;
  read_spec_.compression = config::Compression::kNone;
  read_spec_.csv = config::CsvOptions{};
  read_spec_.csv.null_values = {"\\N"};
  SLUICE_RETURN_IF_ERROR(OpenDuckDb());
  manifest.inputs.back().path = input.path;
  return LoadAndPublish(std::move(manifest), {extract_path},
                        incremental ? current : std::optional<lake::Manifest>());
}

base::Result<IngestReport> SourceIngest::LoadAndPublish(
    lake::Manifest manifest, const std::vector<fs::path>& files,
    const std::optional<lake::Manifest>& parent) {
  const auto started = ctx_.clock.Now();
  IngestReport report;
  report.source = source_.name;
  SLUICE_ASSIGN_OR_RETURN(types::Schema declared, source_.Schema());
  std::vector<types::Field> fields = declared.fields();
  for (const auto& extra : kept_extra_)
    fields.push_back({extra, types::LogicalType::kString, true});
  SLUICE_ASSIGN_OR_RETURN(manifest.schema, types::Schema::Make(std::move(fields)));

  // The inputs of this run are the last `files.size()` entries (earlier ones come from the
  // parent version of an incremental source).
  const size_t first_input = manifest.inputs.size() - files.size();
  std::vector<FileOutcome> outcomes;
  file_count_ = static_cast<double>(files.size());
  lake::RowCounts fresh;
  for (size_t i = 0; i < files.size(); ++i) {
    const std::string& rel = manifest.inputs[first_input + i].path;
    Progress("loading " + rel, static_cast<double>(i) / file_count_);
    SLUICE_ASSIGN_OR_RETURN(FileOutcome o, LoadFile(i, files[i], rel, kept_extra_));
    fresh.loaded += o.loaded;
    fresh.quarantined += o.quarantined;
    outcomes.push_back(std::move(o));
  }
  fresh.read = fresh.loaded + fresh.quarantined;

  // The budget applies to what this run read.
  const double budget = source_.error_budget;
  if (fresh.quarantined > 0 &&
      static_cast<double>(fresh.quarantined) > budget * static_cast<double>(fresh.read)) {
    char buf[256];
    std::snprintf(buf, sizeof(buf),
                  "source '%s': %lld of %lld rows (%.2f%%) failed validation, over the error "
                  "budget of %.2f%%; nothing was published",
                  source_.name.c_str(), static_cast<long long>(fresh.quarantined),
                  static_cast<long long>(fresh.read),
                  100.0 * static_cast<double>(fresh.quarantined) / static_cast<double>(fresh.read),
                  100.0 * budget);
    std::string text = buf;
    for (const auto& q : samples_)
      text += "\n  " + Where(q) + ": " + q.reason;
    return base::SchemaMismatch(text);
  }

  Progress("publishing", -1);
  if (parent) {
    manifest.outputs = parent->outputs;
    manifest.rows = parent->rows;
  }
  manifest.rows.read += fresh.read;
  manifest.rows.loaded += fresh.loaded;
  manifest.rows.quarantined += fresh.quarantined;
  // The raw bytes are kept as they came, content-addressed (the same file is stored once).
  std::optional<StageTimer> timer(std::in_place, "storing raw inputs");
  SLUICE_RETURN_IF_ERROR(FinishCopies(manifest, first_input));
  for (size_t i = 0; i < files.size(); ++i) {
    SLUICE_ASSIGN_OR_RETURN(std::string sha, staged_.empty() ? ctx_.lake.PutObject(files[i])
                                                             : ctx_.lake.PutObject(staged_[i]));
    if (sha != manifest.inputs[first_input + i].sha256) {
      return base::IoError("'" + manifest.inputs[first_input + i].path +
                               "' changed while it was being ingested; run again",
                           /*retryable=*/true);
    }
  }
  timer.emplace("storing outputs");
  for (const auto& o : outcomes) {
    for (const auto& part : o.good_parts) {
      std::error_code ec;
      const auto bytes = fs::file_size(part, ec);
      SLUICE_ASSIGN_OR_RETURN(std::int64_t rows,
                              db_->QueryScalarInt64("SELECT count(*) FROM read_parquet(" +
                                                    QuoteLiteral(part.string()) + ")"));
      SLUICE_ASSIGN_OR_RETURN(std::string sha, ctx_.lake.PutObject(part, /*move=*/true));
      manifest.outputs.push_back({"data", sha, ec ? 0 : bytes, rows});
    }
    if (!o.quarantine.empty()) {
      std::error_code ec;
      const auto bytes = fs::file_size(o.quarantine, ec);
      SLUICE_ASSIGN_OR_RETURN(std::string sha, ctx_.lake.PutObject(o.quarantine, /*move=*/true));
      manifest.outputs.push_back({"quarantine", sha, ec ? 0 : bytes, o.quarantined});
    }
  }
  timer.emplace("publishing");
  base::KillPoint("ingest.after_staging");
  manifest.created_at = NowIso(ctx_.clock);
  SLUICE_ASSIGN_OR_RETURN(lake::Lake::PublishResult published, ctx_.lake.Publish(manifest));
  report.manifest = std::move(published.manifest);
  report.created = published.created;
  report.fresh = fresh;
  report.warnings = warnings_;
  report.samples = samples_;
  report.seconds = std::chrono::duration<double>(ctx_.clock.Now() - started).count();
  return report;
}

}  // namespace

std::string Printable(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == 0) {
      out += "\\0";
    } else if ((c < 0x20 && c != '\t') || c == 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out;
}

std::string Where(const QuarantinedRow& q) {
  if (q.line) return q.file + ":" + std::to_string(*q.line);
  if (q.record) return q.file + " record " + std::to_string(*q.record);
  return q.file;
}

base::Result<IngestReport> Ingest(const config::SourceSpec& source, const IngestContext& ctx) {
  const auto started = ctx.clock.Now();
  SLUICE_ASSIGN_OR_RETURN(std::int64_t run_id,
                          ctx.registry.BeginRun("ingest", source.name, NowIso(ctx.clock)));
  SourceIngest ingest(source, ctx);
  auto result = ingest.Run();
  base::KillPoint("ingest.before_run_record");

  registry::RunRecord run;
  run.id = run_id;
  run.kind = "ingest";
  run.target = source.name;
  run.finished_at = NowIso(ctx.clock);
  run.duration_seconds = std::chrono::duration<double>(ctx.clock.Now() - started).count();
  if (result.ok()) {
    const lake::Manifest& m = result->manifest;
    run.status = result->created ? "succeeded" : "unchanged";
    run.rows_read = result->fresh.read;
    run.rows_loaded = result->fresh.loaded;
    run.rows_quarantined = result->fresh.quarantined;
    for (const auto& in : m.inputs)
      run.inputs += (run.inputs.empty() ? "" : ",") + in.path;
    run.output_version = m.id;
    result->run_id = run_id;
    result->seconds = run.duration_seconds;
    SLUICE_RETURN_IF_ERROR(ctx.registry.FinishRun(run));
    if (result->created) {
      std::vector<registry::LineageEdge> edges;
      for (const auto& in : m.inputs) {
        edges.push_back({"file:" + in.path + "@" + in.sha256, m.id, run_id});
      }
      for (const auto& parent : m.parents)
        edges.push_back({parent, m.id, run_id});
      SLUICE_RETURN_IF_ERROR(ctx.registry.AddLineage(edges));
    }
    return result;
  }
  run.status = "failed";
  run.error = result.status().ToString();
  base::Status recorded = ctx.registry.FinishRun(run);
  if (!recorded.ok()) base::LogWarn("could not record the failed run: " + recorded.ToString());
  return std::move(result).status().WithContext("ingest of source '" + source.name + "'");
}

std::string DatasetSelectSql(const lake::Lake& lake, const lake::Manifest& m) {
  std::vector<fs::path> parts;
  for (const auto& out : m.outputs) {
    if (out.name == "data") parts.push_back(lake.ObjectPath(out.sha256));
  }
  std::string columns;
  for (const auto& f : m.schema.fields()) {
    if (!columns.empty()) columns += ", ";
    columns += QuoteIdentifier(f.name);
  }
  if (parts.empty()) {
    // An empty version still has its schema.
    std::string typed;
    for (const auto& f : m.schema.fields()) {
      if (!typed.empty()) typed += ", ";
      typed += "NULL::" + std::string(warehouse::DuckDbTypeName(f.type)) + " AS " +
               QuoteIdentifier(f.name);
    }
    return "SELECT " + typed + " WHERE false";
  }
  return "SELECT " + columns + " FROM read_parquet(" + ParquetList(parts) + ")";
}

}  // namespace sluice::connectors
