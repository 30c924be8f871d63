#include "lake/parquet_file.h"

#include <lz4.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

// Why a writer of our own: the stream archives every event it applies, and DuckDB's COPY of a
// registered batch (a scan into vectors, a buffered copy of the row group, a dictionary analysis
// of every column, then the encoding) cost a third of a catch-up's CPU. The columns are typed
// and contiguous already, so PLAIN pages are a memcpy and zstd does the rest.
//
// Format references: parquet-format's parquet.thrift (the metadata structs and field ids
// written below) and Encodings.md (PLAIN, the RLE/bit-packed hybrid of definition levels);
// Thrift's compact protocol for the metadata.

namespace sluice::lake {
namespace {

using types::LogicalType;

// parquet.thrift enums.
constexpr std::int32_t kBoolean = 0, kInt32 = 1, kInt64 = 2, kDouble = 5, kByteArray = 6;
constexpr std::int32_t kOptional = 1;
constexpr std::int32_t kUtf8 = 0, kDateConverted = 6, kTimestampMicros = 10, kInt64Converted = 18;
constexpr std::int32_t kPlain = 0, kRle = 3, kRleDictionary = 8;
constexpr std::int32_t kZstd = 6, kLz4Raw = 7;
constexpr std::int32_t kDataPage = 0, kDictionaryPage = 2;

// Thrift compact protocol type ids.
constexpr std::uint8_t kTTrue = 1, kTFalse = 2, kTI32 = 5, kTI64 = 6, kTBinary = 8, kTList = 9,
                       kTStruct = 12;

void PutVarint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

std::uint64_t ZigZag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}

void PutLe32(std::string& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

// A PLAIN BYTE_ARRAY value: its 4-byte little-endian length, then its bytes.
void PutPlainString(std::string& out, std::string_view v) {
  PutLe32(out, static_cast<std::uint32_t>(v.size()));
  out.append(v);
}

// Definition levels (bit width 1) of `n` rows that are all valid: one RLE run.
void PutAllValidLevels(std::string& levels, size_t n) {
  PutVarint(levels, std::uint64_t{n} << 1);
  levels.push_back(1);
}

// The bit width of indices into a dictionary of `entries` values (at least 1).
int IndexBitWidth(size_t entries) {
  int bit_width = 1;
  while (bit_width < 32 && (std::uint64_t{1} << bit_width) < entries)
    ++bit_width;
  return bit_width;
}

// Thrift compact protocol, the subset Parquet's metadata needs. Fields are written in id order.
class Thrift {
 public:
  explicit Thrift(std::string& out) : out_(out) { last_.push_back(0); }

  void I32(std::int16_t id, std::int32_t v) {
    Header(id, kTI32);
    PutVarint(out_, ZigZag(v));
  }
  void I64(std::int16_t id, std::int64_t v) {
    Header(id, kTI64);
    PutVarint(out_, ZigZag(v));
  }
  void Bool(std::int16_t id, bool v) { Header(id, v ? kTTrue : kTFalse); }
  void Binary(std::int16_t id, std::string_view v) {
    Header(id, kTBinary);
    PutVarint(out_, v.size());
    out_.append(v);
  }
  void BeginStruct(std::int16_t id) {
    Header(id, kTStruct);
    last_.push_back(0);
  }
  void EndStruct() {
    out_.push_back(0);  // stop
    last_.pop_back();
  }
  void BeginList(std::int16_t id, std::uint8_t element_type, size_t n) {
    Header(id, kTList);
    if (n < 15) {
      out_.push_back(static_cast<char>((n << 4) | element_type));
    } else {
      out_.push_back(static_cast<char>(0xF0 | element_type));
      PutVarint(out_, n);
    }
  }
  // One struct element of a list.
  void BeginElement() { last_.push_back(0); }
  void ListI32(std::int32_t v) { PutVarint(out_, ZigZag(v)); }
  void ListBinary(std::string_view v) {
    PutVarint(out_, v.size());
    out_.append(v);
  }
  // Closes the outermost struct.
  void End() { out_.push_back(0); }

 private:
  void Header(std::int16_t id, std::uint8_t type) {
    const int delta = id - last_.back();
    if (delta > 0 && delta <= 15) {
      out_.push_back(static_cast<char>((delta << 4) | type));
    } else {
      out_.push_back(static_cast<char>(type));
      PutVarint(out_, ZigZag(id));
    }
    last_.back() = id;
  }

  std::string& out_;
  std::vector<std::int16_t> last_;
};

struct Chunk {
  std::int64_t data_page_offset = 0;  // the first data page
  std::int64_t dictionary_page_offset = 0;
  bool dictionary = false;  // a dictionary page comes first
  bool has_data_page = false;
  std::int64_t uncompressed = 0;  // page headers included, as the format counts
  std::int64_t compressed = 0;
  std::int64_t null_count = 0;
  bool has_min_max = false;
  std::string min, max;  // PLAIN bytes of the statistics

  std::int64_t Start() const { return dictionary ? dictionary_page_offset : data_page_offset; }
};

std::int32_t PhysicalType(LogicalType t) {
  switch (t) {
    case LogicalType::kBool:
      return kBoolean;
    case LogicalType::kDate:
      return kInt32;
    case LogicalType::kDouble:
      return kDouble;
    case LogicalType::kString:
      return kByteArray;
    case LogicalType::kInt64:
    case LogicalType::kTimestamp:
      return kInt64;
  }
  return kByteArray;
}

// The column's bytes of row r as PLAIN encodes them (fixed-width types).
size_t PlainWidth(LogicalType t) {
  switch (t) {
    case LogicalType::kDate:
      return 4;
    case LogicalType::kInt64:
    case LogicalType::kTimestamp:
    case LogicalType::kDouble:
      return 8;
    default:
      return 0;
  }
}

// Definition levels of rows [begin, end) (bit width 1), as the RLE/bit-packed hybrid: one RLE
// run when every row is valid, else bit-packed groups of 8.
void PutDefinitionLevels(std::string& out, const types::Column& col, size_t begin, size_t end,
                         bool all_valid) {
  const size_t n = end - begin;
  std::string levels;
  if (all_valid) {
    PutAllValidLevels(levels, n);
  } else {
    const size_t groups = (n + 7) / 8;
    PutVarint(levels, (std::uint64_t{groups} << 1) | 1);
    const size_t at = levels.size();
    levels.resize(at + groups, 0);
    for (size_t i = 0; i < n; ++i) {
      if (col.IsValid(begin + i)) levels[at + i / 8] |= static_cast<char>(1 << (i % 8));
    }
  }
  PutLe32(out, static_cast<std::uint32_t>(levels.size()));
  out.append(levels);
}

// PLAIN values of the valid rows of [begin, end).
void PutValues(std::string& out, const types::Column& col, size_t begin, size_t end,
               bool all_valid) {
  const LogicalType type = col.type();
  if (type == LogicalType::kString) {
    const std::vector<std::uint32_t>& offsets = col.string_offsets();
    const char* bytes = col.string_bytes().data();
    for (size_t r = begin; r < end; ++r) {
      if (!all_valid && !col.IsValid(r)) continue;
      PutPlainString(out, std::string_view(bytes + offsets[r], offsets[r + 1] - offsets[r]));
    }
    return;
  }
  if (type == LogicalType::kBool) {
    std::uint8_t byte = 0;
    int bits = 0;
    for (size_t r = begin; r < end; ++r) {
      if (!all_valid && !col.IsValid(r)) continue;
      if (col.GetBool(r)) byte |= static_cast<std::uint8_t>(1 << bits);
      if (++bits == 8) {
        out.push_back(static_cast<char>(byte));
        byte = 0;
        bits = 0;
      }
    }
    if (bits > 0) out.push_back(static_cast<char>(byte));
    return;
  }
  // Fixed width: the column holds the values little-endian already (DuckDB's layout).
  const size_t width = PlainWidth(type);
  const char* data = reinterpret_cast<const char*>(col.data());
  if (all_valid) {
    out.append(data + begin * width, (end - begin) * width);
    return;
  }
  for (size_t r = begin; r < end; ++r) {
    if (col.IsValid(r)) out.append(data + r * width, width);
  }
}

// Null count and, for integer-like columns, min and max of the valid rows of [begin, end).
void Statistics(const types::Column& col, size_t begin, size_t end, bool all_valid, Chunk* c) {
  const LogicalType type = col.type();
  const bool ordered =
      type == LogicalType::kInt64 || type == LogicalType::kTimestamp || type == LogicalType::kDate;
  std::int64_t lo = std::numeric_limits<std::int64_t>::max();
  std::int64_t hi = std::numeric_limits<std::int64_t>::min();
  for (size_t r = begin; r < end; ++r) {
    if (!all_valid && !col.IsValid(r)) {
      ++c->null_count;
      continue;
    }
    if (!ordered) continue;
    const std::int64_t v = type == LogicalType::kDate ? col.GetDate(r) : col.GetInt64(r);
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  if (!ordered || c->null_count == static_cast<std::int64_t>(end - begin)) return;
  c->has_min_max = true;
  const size_t width = PlainWidth(type);
  if (width == 4) {
    const auto lo32 = static_cast<std::int32_t>(lo), hi32 = static_cast<std::int32_t>(hi);
    c->min.assign(reinterpret_cast<const char*>(&lo32), 4);
    c->max.assign(reinterpret_cast<const char*>(&hi32), 4);
  } else {
    c->min.assign(reinterpret_cast<const char*>(&lo), 8);
    c->max.assign(reinterpret_cast<const char*>(&hi), 8);
  }
}

// The PLAIN size of row r's value (0 for a NULL).
size_t ValueBytes(const types::Column& col, size_t r) {
  if (!col.IsValid(r)) return 0;
  if (col.type() == LogicalType::kString) {
    return 4 + col.string_offsets()[r + 1] - col.string_offsets()[r];
  }
  return col.type() == LogicalType::kBool ? 1 : PlainWidth(col.type());
}

// A string column chunk's dictionary: its distinct values (each by the row it first appears in)
// and every valid row's index into them. Built only while it pays: a column of mostly distinct
// values (ids) stays PLAIN, found out within its first few thousand rows.
class Dictionary {
 public:
  // False (and nothing usable) when rows [begin, end) of `col` are too distinct for one.
  bool Build(const types::Column& col, size_t begin, size_t end, bool all_valid) {
    constexpr size_t kFreeEntries = 4096;  // below this many entries, always worth it
    constexpr size_t kMaxEntries = size_t{1} << 20;
    constexpr size_t kMaxBytes = size_t{16} << 20;
    entries_.clear();
    index_.assign(end - begin, 0);
    slots_.assign(1024, 0);
    size_t bytes = 0, seen = 0;
    for (size_t r = begin; r < end; ++r) {
      if (!all_valid && !col.IsValid(r)) continue;
      ++seen;
      const std::string_view v = col.GetString(r);
      size_t mask = slots_.size() - 1;
      size_t s = std::hash<std::string_view>{}(v)&mask;
      while (slots_[s] != 0 && col.GetString(entries_[slots_[s] - 1]) != v)
        s = (s + 1) & mask;
      if (slots_[s] == 0) {
        entries_.push_back(static_cast<std::uint32_t>(r));
        bytes += 4 + v.size();
        if (entries_.size() > kMaxEntries || bytes > kMaxBytes ||
            (entries_.size() > kFreeEntries && entries_.size() * 4 > seen * 3)) {
          return false;
        }
        slots_[s] = static_cast<std::uint32_t>(entries_.size());
        if (entries_.size() * 2 > slots_.size()) Rehash(col);
        index_[r - begin] = static_cast<std::uint32_t>(entries_.size() - 1);
      } else {
        index_[r - begin] = slots_[s] - 1;
      }
    }
    if (entries_.empty()) return false;  // every row NULL: nothing to look up
    bit_width_ = IndexBitWidth(entries_.size());
    return true;
  }

  // The dictionary page's values: PLAIN strings.
  void PutEntries(std::string& out, const types::Column& col) const {
    for (std::uint32_t r : entries_)
      PutPlainString(out, col.GetString(r));
  }

  // A data page's values for rows [begin, end) (of the chunk starting at `chunk_begin`): the bit
  // width, then the valid rows' indices as bit-packed groups of 8 (the RLE/bit-packed hybrid).
  void PutIndices(std::string& out, const types::Column& col, size_t chunk_begin, size_t begin,
                  size_t end, bool all_valid) const {
    out.push_back(static_cast<char>(bit_width_));
    size_t n = 0;
    for (size_t r = begin; r < end; ++r)
      n += all_valid || col.IsValid(r) ? 1 : 0;
    if (n == 0) return;
    const size_t groups = (n + 7) / 8;
    PutVarint(out, (std::uint64_t{groups} << 1) | 1);
    std::uint64_t acc = 0;
    int bits = 0;
    auto put = [&](std::uint32_t v) {
      acc |= std::uint64_t{v} << bits;
      bits += bit_width_;
      while (bits >= 8) {
        out.push_back(static_cast<char>(acc & 0xFF));
        acc >>= 8;
        bits -= 8;
      }
    };
    for (size_t r = begin; r < end; ++r) {
      if (all_valid || col.IsValid(r)) put(index_[r - chunk_begin]);
    }
    for (size_t k = n; k < groups * 8; ++k)
      put(0);  // the last group's padding; 8 values of whole bytes leave no bits over
  }

  size_t size() const { return entries_.size(); }

 private:
  void Rehash(const types::Column& col) {
    slots_.assign(slots_.size() * 2, 0);
    const size_t mask = slots_.size() - 1;
    for (size_t e = 0; e < entries_.size(); ++e) {
      size_t s = std::hash<std::string_view>{}(col.GetString(entries_[e])) & mask;
      while (slots_[s] != 0)
        s = (s + 1) & mask;
      slots_[s] = static_cast<std::uint32_t>(e + 1);
    }
  }

  std::vector<std::uint32_t> entries_;  // the row of each distinct value
  std::vector<std::uint32_t> index_;    // per row of the chunk: its entry (valid rows)
  std::vector<std::uint32_t> slots_;    // open addressing: entry + 1, 0 = empty
  int bit_width_ = 1;
};

class File {
 public:
  explicit File(const std::filesystem::path& path) : path_(path) {
    f_ = std::fopen(path.c_str(), "wb");
  }
  ~File() {
    if (f_ != nullptr) std::fclose(f_);
  }
  File(const File&) = delete;
  File& operator=(const File&) = delete;

  base::Status Opened() const {
    if (f_ != nullptr) return base::Status::Ok();
    return base::IoError("cannot create Parquet file '" + path_.string() +
                         "': " + std::strerror(errno));
  }
  base::Status Write(std::string_view bytes) {
    if (bytes.empty()) return base::Status::Ok();
    if (std::fwrite(bytes.data(), 1, bytes.size(), f_) != bytes.size()) {
      return base::IoError("cannot write Parquet file '" + path_.string() +
                           "': " + std::strerror(errno));
    }
    written_ += static_cast<std::int64_t>(bytes.size());
    return base::Status::Ok();
  }
  base::Status Close() {
    const int rc = std::fclose(f_);
    f_ = nullptr;
    if (rc != 0) {
      return base::IoError("cannot write Parquet file '" + path_.string() +
                           "': " + std::strerror(errno));
    }
    return base::Status::Ok();
  }
  std::int64_t written() const { return written_; }

 private:
  std::filesystem::path path_;
  std::FILE* f_ = nullptr;
  std::int64_t written_ = 0;
};

// A page's compressor: one context reused for every page of a file.
class Compressor {
 public:
  Compressor(ParquetCodec codec, int zstd_level) : codec_(codec), zstd_level_(zstd_level) {
    if (codec_ == ParquetCodec::kZstd) zstd_ = ZSTD_createCCtx();
  }
  ~Compressor() { ZSTD_freeCCtx(zstd_); }
  Compressor(const Compressor&) = delete;
  Compressor& operator=(const Compressor&) = delete;

  base::Status Ready() const {
    if (codec_ == ParquetCodec::kZstd && zstd_ == nullptr) {
      return base::Internal("zstd: cannot create a compression context");
    }
    return base::Status::Ok();
  }
  std::int32_t ThriftCodec() const { return codec_ == ParquetCodec::kZstd ? kZstd : kLz4Raw; }
  // Compresses `in` into `out` (resized to fit), returning the compressed size.
  base::Result<size_t> Compress(std::string_view in, std::string& out) {
    if (codec_ == ParquetCodec::kZstd) {
      out.resize(ZSTD_compressBound(in.size()));
      const size_t n =
          ZSTD_compressCCtx(zstd_, out.data(), out.size(), in.data(), in.size(), zstd_level_);
      if (ZSTD_isError(n)) return base::Internal(std::string("zstd: ") + ZSTD_getErrorName(n));
      return n;
    }
    out.resize(static_cast<size_t>(LZ4_compressBound(static_cast<int>(in.size()))));
    const int n = LZ4_compress_default(in.data(), out.data(), static_cast<int>(in.size()),
                                       static_cast<int>(out.size()));
    if (n <= 0) return base::Internal("lz4: cannot compress a page");
    return static_cast<size_t>(n);
  }

 private:
  ParquetCodec codec_;
  int zstd_level_;
  ZSTD_CCtx* zstd_ = nullptr;
};

void PutSchemaElement(Thrift& t, const types::Field& f) {
  t.BeginElement();
  t.I32(1, PhysicalType(f.type));
  t.I32(3, kOptional);
  t.Binary(4, f.name);
  switch (f.type) {
    case LogicalType::kString:
      t.I32(6, kUtf8);
      break;
    case LogicalType::kInt64:
      t.I32(6, kInt64Converted);
      break;
    case LogicalType::kTimestamp:
      t.I32(6, kTimestampMicros);
      t.BeginStruct(10);  // LogicalType
      t.BeginStruct(8);   // TIMESTAMP
      t.Bool(1, false);   // isAdjustedToUTC: DuckDB's TIMESTAMP, not TIMESTAMPTZ
      t.BeginStruct(2);   // unit
      t.BeginStruct(2);   // MICROS
      t.EndStruct();
      t.EndStruct();
      t.EndStruct();
      t.EndStruct();
      break;
    case LogicalType::kDate:
      t.I32(6, kDateConverted);
      t.BeginStruct(10);
      t.BeginStruct(6);  // DATE
      t.EndStruct();
      t.EndStruct();
      break;
    case LogicalType::kBool:
    case LogicalType::kDouble:
      break;
  }
  t.EndStruct();
}

// The file being written: pages go out as they are made, the footer at the end.
class Writer {
 public:
  Writer(const std::filesystem::path& path, const types::Schema& schema,
         const ParquetWriteOptions& options)
      : path_(path),
        schema_(schema),
        options_(options),
        file_(path),
        compressor_(options.codec, options.zstd_level) {}

  base::Status Begin() {
    if (schema_.size() == 0) {
      return base::InvalidArgument("cannot write Parquet file '" + path_.string() +
                                   "': no columns");
    }
    SLUICE_RETURN_IF_ERROR(file_.Opened());
    SLUICE_RETURN_IF_ERROR(compressor_.Ready());
    return file_.Write("PAR1");
  }

  void BeginGroup(size_t rows) {
    groups_.emplace_back();
    groups_.back().rows = static_cast<std::int64_t>(rows);
  }
  // A new column chunk of the current group; its statistics are filled by the caller.
  Chunk& BeginChunk() {
    Chunk& chunk = groups_.back().chunks.emplace_back();
    chunk.data_page_offset = file_.written();
    return chunk;
  }

  // A v1 data page of `values` rows (definition levels and values, uncompressed).
  base::Status DataPage(size_t column, std::string_view page, size_t values, bool dictionary,
                        Chunk& chunk) {
    if (chunk.dictionary && !chunk.has_data_page) chunk.data_page_offset = file_.written();
    chunk.has_data_page = true;
    return Page(column, page, kDataPage, /*DataPageHeader*/ 5, chunk, [&](Thrift& t) {
      t.I32(1, static_cast<std::int32_t>(values));
      t.I32(2, dictionary ? kRleDictionary : kPlain);
      t.I32(3, kRle);
      t.I32(4, kRle);
    });
  }

  // A column chunk's dictionary page (PLAIN values), before its data pages.
  base::Status DictionaryPage(size_t column, std::string_view page, size_t values, Chunk& chunk) {
    chunk.dictionary = true;
    chunk.dictionary_page_offset = file_.written();
    return Page(column, page, kDictionaryPage, /*DictionaryPageHeader*/ 7, chunk, [&](Thrift& t) {
      t.I32(1, static_cast<std::int32_t>(values));
      t.I32(2, kPlain);
    });
  }

  // Compresses `page` and writes it with its PageHeader: the type, both sizes and the struct at
  // `header_field` that `fill` writes (the data or the dictionary page's own header).
  template <typename Fill>
  base::Status Page(size_t column, std::string_view page, std::int32_t type,
                    std::int16_t header_field, Chunk& chunk, Fill fill) {
    SLUICE_RETURN_IF_ERROR(CheckSize(column, page));
    SLUICE_ASSIGN_OR_RETURN(size_t n, compressor_.Compress(page, compressed_));
    header_.clear();
    Thrift t(header_);
    t.I32(1, type);
    t.I32(2, static_cast<std::int32_t>(page.size()));
    t.I32(3, static_cast<std::int32_t>(n));
    t.BeginStruct(header_field);
    fill(t);
    t.EndStruct();
    t.End();
    return Emit(page.size(), n, chunk);
  }

  // The footer (FileMetaData); returns the file's size.
  base::Result<std::int64_t> Finish(size_t num_rows) {
    std::string meta;
    Thrift t(meta);
    t.I32(1, 1);  // version
    t.BeginList(2, kTStruct, schema_.size() + 1);
    t.BeginElement();  // the root
    t.I32(3, 0);       // REQUIRED
    t.Binary(4, "schema");
    t.I32(5, static_cast<std::int32_t>(schema_.size()));
    t.EndStruct();
    for (const types::Field& f : schema_.fields())
      PutSchemaElement(t, f);
    t.I64(3, static_cast<std::int64_t>(num_rows));
    t.BeginList(4, kTStruct, groups_.size());
    for (const Group& group : groups_) {
      t.BeginElement();  // RowGroup
      t.BeginList(1, kTStruct, group.chunks.size());
      std::int64_t uncompressed = 0, compressed_total = 0;
      for (size_t c = 0; c < group.chunks.size(); ++c) {
        const Chunk& chunk = group.chunks[c];
        const types::Field& f = schema_.field(c);
        uncompressed += chunk.uncompressed;
        compressed_total += chunk.compressed;
        t.BeginElement();  // ColumnChunk
        t.I64(2, chunk.Start());
        t.BeginStruct(3);  // ColumnMetaData
        t.I32(1, PhysicalType(f.type));
        t.BeginList(2, kTI32, chunk.dictionary ? 3 : 2);
        t.ListI32(kPlain);
        t.ListI32(kRle);
        if (chunk.dictionary) t.ListI32(kRleDictionary);
        t.BeginList(3, kTBinary, 1);
        t.ListBinary(f.name);
        t.I32(4, compressor_.ThriftCodec());
        t.I64(5, group.rows);
        t.I64(6, chunk.uncompressed);
        t.I64(7, chunk.compressed);
        t.I64(9, chunk.data_page_offset);
        if (chunk.dictionary) t.I64(11, chunk.dictionary_page_offset);
        t.BeginStruct(12);  // Statistics
        t.I64(3, chunk.null_count);
        if (chunk.has_min_max) {
          t.Binary(5, chunk.max);
          t.Binary(6, chunk.min);
        }
        t.EndStruct();
        t.EndStruct();
        t.EndStruct();
      }
      t.I64(2, uncompressed);
      t.I64(3, group.rows);
      t.I64(5, group.chunks.front().Start());
      t.I64(6, compressed_total);
      t.EndStruct();
    }
    t.Binary(6, "sluice");  // created_by
    // column_orders: TypeDefinedOrder for every column, which min_value/max_value require.
    t.BeginList(7, kTStruct, schema_.size());
    for (size_t c = 0; c < schema_.size(); ++c) {
      t.BeginElement();
      t.BeginStruct(1);
      t.EndStruct();
      t.EndStruct();
    }
    t.End();
    SLUICE_RETURN_IF_ERROR(file_.Write(meta));
    std::string tail;
    PutLe32(tail, static_cast<std::uint32_t>(meta.size()));
    tail += "PAR1";
    SLUICE_RETURN_IF_ERROR(file_.Write(tail));
    const std::int64_t size = file_.written();
    SLUICE_RETURN_IF_ERROR(file_.Close());
    return size;
  }

 private:
  struct Group {
    std::int64_t rows = 0;
    std::vector<Chunk> chunks;
  };

  base::Status CheckSize(size_t column, std::string_view page) const {
    if (page.size() > static_cast<size_t>(std::numeric_limits<std::int32_t>::max())) {
      return base::InvalidArgument("cannot write Parquet file '" + path_.string() +
                                   "': a value of column '" + schema_.field(column).name +
                                   "' is over 2 GiB");
    }
    return base::Status::Ok();
  }
  base::Status Emit(size_t uncompressed, size_t compressed, Chunk& chunk) {
    SLUICE_RETURN_IF_ERROR(file_.Write(header_));
    SLUICE_RETURN_IF_ERROR(file_.Write(std::string_view(compressed_.data(), compressed)));
    chunk.uncompressed += static_cast<std::int64_t>(header_.size() + uncompressed);
    chunk.compressed += static_cast<std::int64_t>(header_.size() + compressed);
    if (options_.after_page) options_.after_page();
    return base::Status::Ok();
  }

  std::filesystem::path path_;
  const types::Schema& schema_;
  const ParquetWriteOptions& options_;
  File file_;
  Compressor compressor_;
  std::vector<Group> groups_;
  std::string compressed_, header_;
};

// Where a page's definition levels go when they are written after its values: the most an
// all-valid run takes (a 4-byte length, a varint of up to 5 bytes, the level byte).
constexpr size_t kLevelsRoom = 10;

// Writes the all-valid definition levels of `values` rows into the end of the room reserved at
// the front of `page`, returning where the page starts.
size_t PutAllValidLevelsBefore(std::string& page, size_t values) {
  std::string levels;
  PutAllValidLevels(levels, values);
  std::string prefixed;
  PutLe32(prefixed, static_cast<std::uint32_t>(levels.size()));
  prefixed += levels;
  const size_t at = kLevelsRoom - prefixed.size();
  std::memcpy(page.data() + at, prefixed.data(), prefixed.size());
  return at;
}

// RLE runs (the RLE/bit-packed hybrid's repeated-value runs) of dictionary indices.
void PutIndexRuns(std::string& out, const std::uint32_t* indices, size_t n, int bit_width) {
  const int value_bytes = (bit_width + 7) / 8;
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    while (j < n && indices[j] == indices[i])
      ++j;
    PutVarint(out, std::uint64_t{j - i} << 1);
    for (int b = 0; b < value_bytes; ++b)
      out.push_back(static_cast<char>((indices[i] >> (8 * b)) & 0xFF));
    i = j;
  }
}

}  // namespace

base::Result<std::int64_t> WriteParquet(const types::Batch& rows, const std::filesystem::path& path,
                                        const ParquetWriteOptions& options) {
  const types::Schema& schema = rows.schema();
  Writer writer(path, schema, options);
  SLUICE_RETURN_IF_ERROR(writer.Begin());
  const size_t num_rows = rows.num_rows();
  const size_t group_rows = std::max<size_t>(1, options.row_group_rows);
  const size_t page_bytes = std::max<size_t>(1, options.page_bytes);

  std::vector<bool> all_valid(schema.size());
  for (size_t c = 0; c < schema.size(); ++c)
    all_valid[c] = rows.column(c).AllValid();

  std::string page;
  Dictionary dictionary;
  for (size_t g0 = 0; g0 < num_rows; g0 += group_rows) {
    const size_t g1 = std::min(num_rows, g0 + group_rows);
    writer.BeginGroup(g1 - g0);
    for (size_t c = 0; c < schema.size(); ++c) {
      const types::Column& col = rows.column(c);
      Chunk& chunk = writer.BeginChunk();
      Statistics(col, g0, g1, all_valid[c], &chunk);
      const bool dictionary_encoded = options.dictionary && col.type() == LogicalType::kString &&
                                      dictionary.Build(col, g0, g1, all_valid[c]);
      if (dictionary_encoded) {
        page.clear();
        dictionary.PutEntries(page, col);
        SLUICE_RETURN_IF_ERROR(writer.DictionaryPage(c, page, dictionary.size(), chunk));
      }
      size_t p0 = g0;
      while (p0 < g1) {
        // The page: rows until their values pass page_bytes (at least one row).
        size_t p1 = p0;
        const size_t width = PlainWidth(col.type());
        if (width > 0) {
          p1 = std::min(g1, p0 + std::max<size_t>(1, page_bytes / width));
        } else {
          size_t bytes = 0;
          while (p1 < g1 && (p1 == p0 || bytes < page_bytes))
            bytes += ValueBytes(col, p1++);
        }
        page.clear();
        PutDefinitionLevels(page, col, p0, p1, all_valid[c]);
        if (dictionary_encoded) {
          dictionary.PutIndices(page, col, g0, p0, p1, all_valid[c]);
        } else {
          PutValues(page, col, p0, p1, all_valid[c]);
        }
        SLUICE_RETURN_IF_ERROR(writer.DataPage(c, page, p1 - p0, dictionary_encoded, chunk));
        p0 = p1;
      }
    }
  }
  return writer.Finish(num_rows);
}

base::Result<std::int64_t> WriteParquet(const ParquetRows& rows, const std::filesystem::path& path,
                                        const ParquetWriteOptions& options) {
  const types::Schema& schema = rows.schema();
  Writer writer(path, schema, options);
  SLUICE_RETURN_IF_ERROR(writer.Begin());
  const size_t num_rows = rows.num_rows();
  const size_t group_rows = std::max<size_t>(1, options.row_group_rows);
  const size_t page_bytes = std::max<size_t>(1, options.page_bytes);

  std::string page;
  std::vector<std::uint32_t> indices;
  for (size_t g0 = 0; g0 < num_rows; g0 += group_rows) {
    const size_t g1 = std::min(num_rows, g0 + group_rows);
    writer.BeginGroup(g1 - g0);
    for (size_t c = 0; c < schema.size(); ++c) {
      const LogicalType type = schema.field(c).type;
      const std::span<const std::string_view> dictionary = rows.Dictionary(c);
      Chunk& chunk = writer.BeginChunk();
      if (!dictionary.empty()) {
        if (type != LogicalType::kString) {
          return base::InvalidArgument("cannot write Parquet file '" + path.string() +
                                       "': column '" + schema.field(c).name +
                                       "' has a dictionary but is not a string column");
        }
        page.clear();
        for (std::string_view v : dictionary)
          PutPlainString(page, v);
        SLUICE_RETURN_IF_ERROR(writer.DictionaryPage(c, page, dictionary.size(), chunk));
        const int bit_width = IndexBitWidth(dictionary.size());
        const size_t page_rows = std::max<size_t>(1, page_bytes / 4);
        for (size_t p0 = g0; p0 < g1;) {
          const size_t p1 = std::min(g1, p0 + page_rows);
          indices.resize(p1 - p0);
          rows.Indices(c, p0, p1, indices.data());
          for (std::uint32_t i : indices) {
            if (i >= dictionary.size()) {
              return base::Internal("cannot write Parquet file '" + path.string() +
                                    "': a dictionary index of column '" + schema.field(c).name +
                                    "' is out of range");
            }
          }
          page.assign(kLevelsRoom, '\0');
          page.push_back(static_cast<char>(bit_width));
          PutIndexRuns(page, indices.data(), indices.size(), bit_width);
          const size_t at = PutAllValidLevelsBefore(page, p1 - p0);
          SLUICE_RETURN_IF_ERROR(writer.DataPage(c, std::string_view(page).substr(at), p1 - p0,
                                                 /*dictionary=*/true, chunk));
          p0 = p1;
        }
        continue;
      }
      const size_t width = PlainWidth(type);
      const bool ordered = type == LogicalType::kInt64 || type == LogicalType::kTimestamp;
      if ((width == 0) != (type == LogicalType::kString) || (width > 0 && !ordered)) {
        return base::InvalidArgument("cannot write Parquet file '" + path.string() + "': column '" +
                                     schema.field(c).name +
                                     "' must be a string, int64 or timestamp column");
      }
      std::int64_t lo = std::numeric_limits<std::int64_t>::max();
      std::int64_t hi = std::numeric_limits<std::int64_t>::min();
      for (size_t p0 = g0; p0 < g1;) {
        page.assign(kLevelsRoom, '\0');
        const size_t p1 = rows.AppendPlain(c, p0, g1, page_bytes, page);
        if (p1 <= p0 || p1 > g1 || (width > 0 && page.size() != kLevelsRoom + (p1 - p0) * width)) {
          return base::Internal("cannot write Parquet file '" + path.string() + "': column '" +
                                schema.field(c).name + "' appended a malformed page");
        }
        if (ordered) {
          for (size_t at = kLevelsRoom; at < page.size(); at += 8) {
            std::int64_t v;
            std::memcpy(&v, page.data() + at, 8);
            lo = std::min(lo, v);
            hi = std::max(hi, v);
          }
        }
        const size_t at = PutAllValidLevelsBefore(page, p1 - p0);
        SLUICE_RETURN_IF_ERROR(writer.DataPage(c, std::string_view(page).substr(at), p1 - p0,
                                               /*dictionary=*/false, chunk));
        p0 = p1;
      }
      if (ordered) {
        chunk.has_min_max = true;
        chunk.min.assign(reinterpret_cast<const char*>(&lo), 8);
        chunk.max.assign(reinterpret_cast<const char*>(&hi), 8);
      }
    }
  }
  return writer.Finish(num_rows);
}

}  // namespace sluice::lake
