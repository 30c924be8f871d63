#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "base/result.h"
#include "types/batch.h"

namespace sluice::lake {

enum class ParquetCodec {
  kZstd,    // ZSTD at `zstd_level`: smaller files
  kLz4Raw,  // LZ4_RAW: less CPU to write and to read, files about two to three times larger
};

struct ParquetWriteOptions {
  size_t row_group_rows = 122880;       // DuckDB's default row group
  size_t page_bytes = size_t{1} << 20;  // a data page closes once its values pass this size
  ParquetCodec codec = ParquetCodec::kZstd;
  int zstd_level = 1;
  // Called after each page is written, if set: a writer sharing a busy core can yield there.
  std::function<void()> after_page = nullptr;
};

// Non-null rows kept in a caller's own layout, written column by column without first being
// copied into a types::Batch (the serving log's row buffers). Strings may be dictionary-encoded.
class ParquetRows {
 public:
  virtual ~ParquetRows() = default;
  virtual const types::Schema& schema() const = 0;
  virtual size_t num_rows() const = 0;
  // A string column written dictionary-encoded: its distinct values, each row one of them by
  // index (Indices). Empty for a column written PLAIN (AppendPlain).
  virtual std::span<const std::string_view> Dictionary(size_t column) const = 0;
  // Appends the PLAIN bytes of rows [begin, end) of a column without a dictionary to `out`
  // (strings: a 4-byte little-endian length, then the bytes; int64 and timestamps: 8 bytes
  // little-endian), stopping after the first row that makes the appended bytes reach
  // `max_bytes`. Returns the row after the last one appended (always > begin).
  virtual size_t AppendPlain(size_t column, size_t begin, size_t end, size_t max_bytes,
                             std::string& out) const = 0;
  // The dictionary indices of rows [begin, end) of a dictionary column.
  virtual void Indices(size_t column, size_t begin, size_t end, std::uint32_t* out) const = 0;
};

// Writes `rows` to a new Parquet file at `path` (replacing any file there) and returns its size
// in bytes. Every column is OPTIONAL and PLAIN-encoded in compressed v1 data pages, typed
// as DuckDB types its own COPY output (docs/lake.md): bool BOOLEAN, int64 INT64, double DOUBLE,
// string BYTE_ARRAY (UTF8), timestamp INT64 TIMESTAMP_MICROS (not adjusted to UTC), date INT32
// DATE; integer, timestamp and date columns carry min/max statistics, every column its null
// count. The bytes depend on `rows` and `options` only. The file is not fsynced.
base::Result<std::int64_t> WriteParquet(const types::Batch& rows, const std::filesystem::path& path,
                                        const ParquetWriteOptions& options = {});

// The same for rows in the caller's layout (no NULLs); a column with a dictionary is written as
// a dictionary page and RLE_DICTIONARY data pages (readers get its strings).
base::Result<std::int64_t> WriteParquet(const ParquetRows& rows, const std::filesystem::path& path,
                                        const ParquetWriteOptions& options = {});

}  // namespace sluice::lake
