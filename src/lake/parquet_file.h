#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>

#include "base/result.h"
#include "types/batch.h"

namespace sluice::lake {

struct ParquetWriteOptions {
  size_t row_group_rows = 122880;       // DuckDB's default row group
  size_t page_bytes = size_t{1} << 20;  // a data page closes once its values pass this size
  int zstd_level = 1;
  // String column chunks with repeating values get a dictionary page and RLE_DICTIONARY data
  // pages (mostly distinct ones stay PLAIN): less for zstd to compress and the file to hold.
  bool dictionary = true;
};

// Writes `rows` to a new Parquet file at `path` (replacing any file there) and returns its size
// in bytes. Every column is OPTIONAL and PLAIN-encoded (a string column of repeating values
// dictionary-encoded, see ParquetWriteOptions) in zstd-compressed v1 data pages, typed
// as DuckDB types its own COPY output (docs/lake.md): bool BOOLEAN, int64 INT64, double DOUBLE,
// string BYTE_ARRAY (UTF8), timestamp INT64 TIMESTAMP_MICROS (not adjusted to UTC), date INT32
// DATE; integer, timestamp and date columns carry min/max statistics, every column its null
// count. The bytes depend on `rows` and `options` only. The file is not fsynced.
base::Result<std::int64_t> WriteParquet(const types::Batch& rows, const std::filesystem::path& path,
                                        const ParquetWriteOptions& options = {});

}  // namespace sluice::lake
