#include "warehouse/duckdb_database.h"

#include <duckdb.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <tuple>
#include <vector>

#include <fmt/format.h>

namespace sluice::warehouse {
namespace {

using base::Status;
using base::StatusCode;
using types::LogicalType;

// How a DuckDB error kind maps to sluice's codes. Syntax, binding and catalog problems are the
// caller's SQL; IO and permission are the environment; transaction conflicts may pass on retry.
Status FromDuckDbError(duckdb_error_type type, const char* message) {
  std::string text = message != nullptr ? message : "unknown DuckDB error";
  switch (type) {
    case DUCKDB_ERROR_IO:
    case DUCKDB_ERROR_PERMISSION:
      // A lock held by another process goes away when that process ends.
      return base::IoError(std::move(text), text.find("lock") != std::string::npos);
    case DUCKDB_ERROR_HTTP:
    case DUCKDB_ERROR_NETWORK:
      return base::IoError(std::move(text), /*retryable=*/true);
    case DUCKDB_ERROR_TRANSACTION:
      return Status(StatusCode::kFailedPrecondition, std::move(text), /*retryable=*/true);
    case DUCKDB_ERROR_INTERRUPT:
      return base::Cancelled(std::move(text));
    case DUCKDB_ERROR_OUT_OF_MEMORY:
    case DUCKDB_ERROR_MISSING_EXTENSION:
    case DUCKDB_ERROR_AUTOLOAD:
      return base::FailedPrecondition(std::move(text));
    case DUCKDB_ERROR_FATAL:
    case DUCKDB_ERROR_INTERNAL:
    case DUCKDB_ERROR_SERIALIZATION:
      return base::Internal(std::move(text));
    default:
      // Parser, syntax, binder, catalog, conversion, constraint, invalid input, ...
      return base::InvalidArgument(std::move(text));
  }
}

// duckdb_query needs a NUL-terminated string, so an embedded NUL would silently cut the SQL.
base::Result<std::string> TerminatedSql(std::string_view sql) {
  if (sql.find('\0') != std::string_view::npos) {
    return base::InvalidArgument("SQL text contains a NUL byte");
  }
  return std::string(sql);
}

// Owns a duckdb_result for the scope of one call.
class ResultGuard {
 public:
  ResultGuard() { std::memset(&result_, 0, sizeof(result_)); }
  ~ResultGuard() { duckdb_destroy_result(&result_); }
  ResultGuard(const ResultGuard&) = delete;
  ResultGuard& operator=(const ResultGuard&) = delete;
  duckdb_result* get() { return &result_; }

 private:
  duckdb_result result_;
};

class ChunkGuard {
 public:
  explicit ChunkGuard(duckdb_data_chunk chunk) : chunk_(chunk) {}
  ~ChunkGuard() {
    if (chunk_ != nullptr) duckdb_destroy_data_chunk(&chunk_);
  }
  ChunkGuard(const ChunkGuard&) = delete;
  ChunkGuard& operator=(const ChunkGuard&) = delete;
  duckdb_data_chunk get() const { return chunk_; }

 private:
  duckdb_data_chunk chunk_;
};

class LogicalTypeGuard {
 public:
  explicit LogicalTypeGuard(duckdb_logical_type type) : type_(type) {}
  ~LogicalTypeGuard() {
    if (type_ != nullptr) duckdb_destroy_logical_type(&type_);
  }
  LogicalTypeGuard(const LogicalTypeGuard&) = delete;
  LogicalTypeGuard& operator=(const LogicalTypeGuard&) = delete;
  duckdb_logical_type get() const { return type_; }

 private:
  duckdb_logical_type type_;
};

Status RunQuery(duckdb_connection conn, std::string_view sql, duckdb_result* out) {
  SLUICE_ASSIGN_OR_RETURN(std::string text, TerminatedSql(sql));
  if (duckdb_query(conn, text.c_str(), out) == DuckDBError) {
    return FromDuckDbError(duckdb_result_error_type(out), duckdb_result_error(out));
  }
  return Status::Ok();
}

std::string TypeToString(duckdb_logical_type type) {
  char* name = duckdb_logical_type_get_alias(type);
  if (name == nullptr) {
    // The C API has no type-to-string, so name the types this adapter rejects.
    duckdb_type id = duckdb_get_type_id(type);
    switch (id) {
      case DUCKDB_TYPE_HUGEINT:
        return "HUGEINT";
      case DUCKDB_TYPE_UHUGEINT:
        return "UHUGEINT";
      case DUCKDB_TYPE_UBIGINT:
        return "UBIGINT";
      case DUCKDB_TYPE_TIME:
        return "TIME";
      case DUCKDB_TYPE_TIME_TZ:
        return "TIME WITH TIME ZONE";
      case DUCKDB_TYPE_INTERVAL:
        return "INTERVAL";
      case DUCKDB_TYPE_BLOB:
        return "BLOB";
      case DUCKDB_TYPE_ENUM:
        return "ENUM";
      case DUCKDB_TYPE_LIST:
        return "LIST";
      case DUCKDB_TYPE_STRUCT:
        return "STRUCT";
      case DUCKDB_TYPE_MAP:
        return "MAP";
      case DUCKDB_TYPE_ARRAY:
        return "ARRAY";
      case DUCKDB_TYPE_UUID:
        return "UUID";
      case DUCKDB_TYPE_UNION:
        return "UNION";
      case DUCKDB_TYPE_BIT:
        return "BIT";
      case DUCKDB_TYPE_BIGNUM:
        return "BIGNUM";
      case DUCKDB_TYPE_SQLNULL:
        return "NULL";
      default:
        return fmt::format("DuckDB type id {}", static_cast<int>(id));
    }
  }
  std::string out = name;
  duckdb_free(name);
  return out;
}

// How one result column becomes a sluice column.
enum class Conversion {
  kCopy,       // same physical layout: memcpy
  kWidenInt,   // smaller or unsigned integers -> int64
  kUBigInt,    // uint64 -> int64, failing above INT64_MAX
  kHugeInt,    // int128 -> int64, failing outside the int64 range
  kFloat,      // float -> double
  kDecimal,    // scaled integer -> double
  kTimeScale,  // TIMESTAMP_S/MS/NS -> micros
  kString,
};

struct ColumnPlan {
  std::string name;
  LogicalType type = LogicalType::kInt64;
  Conversion conversion = Conversion::kCopy;
  duckdb_type source = DUCKDB_TYPE_INVALID;
  duckdb_type decimal_storage = DUCKDB_TYPE_INVALID;
  double decimal_divisor = 1.0;
};

base::Result<ColumnPlan> PlanColumn(duckdb_result* result, idx_t col) {
  ColumnPlan plan;
  const char* name = duckdb_column_name(result, col);
  plan.name = name != nullptr ? name : "";
  LogicalTypeGuard type(duckdb_column_logical_type(result, col));
  plan.source = duckdb_get_type_id(type.get());
  switch (plan.source) {
    case DUCKDB_TYPE_BOOLEAN:
      plan.type = LogicalType::kBool;
      break;
    case DUCKDB_TYPE_BIGINT:
      plan.type = LogicalType::kInt64;
      break;
    case DUCKDB_TYPE_TINYINT:
    case DUCKDB_TYPE_SMALLINT:
    case DUCKDB_TYPE_INTEGER:
    case DUCKDB_TYPE_UTINYINT:
    case DUCKDB_TYPE_USMALLINT:
    case DUCKDB_TYPE_UINTEGER:
      plan.type = LogicalType::kInt64;
      plan.conversion = Conversion::kWidenInt;
      break;
    case DUCKDB_TYPE_UBIGINT:
      plan.type = LogicalType::kInt64;
      plan.conversion = Conversion::kUBigInt;
      break;
    case DUCKDB_TYPE_HUGEINT:
      plan.type = LogicalType::kInt64;
      plan.conversion = Conversion::kHugeInt;
      break;
    case DUCKDB_TYPE_DOUBLE:
      plan.type = LogicalType::kDouble;
      break;
    case DUCKDB_TYPE_FLOAT:
      plan.type = LogicalType::kDouble;
      plan.conversion = Conversion::kFloat;
      break;
    case DUCKDB_TYPE_DECIMAL: {
      plan.type = LogicalType::kDouble;
      plan.conversion = Conversion::kDecimal;
      plan.decimal_storage = duckdb_decimal_internal_type(type.get());
      double divisor = 1.0;
      for (int i = 0; i < duckdb_decimal_scale(type.get()); ++i)
        divisor *= 10.0;
      plan.decimal_divisor = divisor;
      break;
    }
    case DUCKDB_TYPE_VARCHAR:
      plan.type = LogicalType::kString;
      plan.conversion = Conversion::kString;
      break;
    case DUCKDB_TYPE_TIMESTAMP:
    case DUCKDB_TYPE_TIMESTAMP_TZ:
      plan.type = LogicalType::kTimestamp;
      break;
    case DUCKDB_TYPE_TIMESTAMP_S:
    case DUCKDB_TYPE_TIMESTAMP_MS:
    case DUCKDB_TYPE_TIMESTAMP_NS:
      plan.type = LogicalType::kTimestamp;
      plan.conversion = Conversion::kTimeScale;
      break;
    case DUCKDB_TYPE_DATE:
      plan.type = LogicalType::kDate;
      break;
    default:
      return base::InvalidArgument(fmt::format(
          "column '{}' has type {}, which sluice does not support; CAST it in SQL to BOOLEAN, "
          "BIGINT, DOUBLE, VARCHAR, TIMESTAMP or DATE",
          plan.name, TypeToString(type.get())));
  }
  return plan;
}

bool IsValidRow(const std::uint64_t* mask, idx_t row) {
  return mask == nullptr || ((mask[row / 64] >> (row % 64)) & 1U);
}

template <typename From>
void WidenToInt64(const void* data, idx_t n, std::vector<std::int64_t>& out) {
  const From* values = static_cast<const From*>(data);
  for (idx_t i = 0; i < n; ++i)
    out[i] = static_cast<std::int64_t>(values[i]);
}

template <typename Storage>
void DecimalToDouble(const void* data, idx_t n, double divisor, std::vector<double>& out) {
  const Storage* values = static_cast<const Storage*>(data);
  for (idx_t i = 0; i < n; ++i)
    out[i] = static_cast<double>(values[i]) / divisor;
}

// Null slots in DuckDB vectors hold leftovers; Column promises zeroed null slots.
void ZeroNullSlots(types::Column& column, size_t first_row, const std::uint64_t* mask, idx_t n) {
  if (mask == nullptr) return;
  const size_t width = types::FixedWidth(column.type());
  for (idx_t i = 0; i < n; ++i) {
    if (!IsValidRow(mask, i)) {
      std::memset(column.mutable_data() + (first_row + i) * width, 0, width);
    }
  }
}

Status ConvertVector(const ColumnPlan& plan, duckdb_vector vector, idx_t n, types::Column& column,
                     std::vector<std::int64_t>& int_scratch, std::vector<double>& double_scratch) {
  const void* data = duckdb_vector_get_data(vector);
  const std::uint64_t* mask = duckdb_vector_get_validity(vector);
  const size_t first_row = column.size();
  switch (plan.conversion) {
    case Conversion::kCopy:
      column.AppendFixedRaw(data, mask, n);
      break;
    case Conversion::kWidenInt:
      int_scratch.resize(n);
      switch (plan.source) {
        case DUCKDB_TYPE_TINYINT:
          WidenToInt64<std::int8_t>(data, n, int_scratch);
          break;
        case DUCKDB_TYPE_SMALLINT:
          WidenToInt64<std::int16_t>(data, n, int_scratch);
          break;
        case DUCKDB_TYPE_INTEGER:
          WidenToInt64<std::int32_t>(data, n, int_scratch);
          break;
        case DUCKDB_TYPE_UTINYINT:
          WidenToInt64<std::uint8_t>(data, n, int_scratch);
          break;
        case DUCKDB_TYPE_USMALLINT:
          WidenToInt64<std::uint16_t>(data, n, int_scratch);
          break;
        default:
          WidenToInt64<std::uint32_t>(data, n, int_scratch);
          break;
      }
      column.AppendFixedRaw(int_scratch.data(), mask, n);
      break;
    case Conversion::kUBigInt: {
      int_scratch.resize(n);
      const auto* values = static_cast<const std::uint64_t*>(data);
      for (idx_t i = 0; i < n; ++i) {
        if (IsValidRow(mask, i) &&
            values[i] > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
          return base::InvalidArgument(fmt::format(
              "column '{}' (UBIGINT) holds {}, which does not fit in int64", plan.name, values[i]));
        }
        int_scratch[i] = static_cast<std::int64_t>(values[i]);
      }
      column.AppendFixedRaw(int_scratch.data(), mask, n);
      break;
    }
    case Conversion::kHugeInt: {
      int_scratch.resize(n);
      const auto* values = static_cast<const duckdb_hugeint*>(data);
      for (idx_t i = 0; i < n; ++i) {
        const bool fits = (values[i].upper == 0 && values[i].lower <= 0x7fffffffffffffffULL) ||
                          (values[i].upper == -1 && values[i].lower >= 0x8000000000000000ULL);
        if (IsValidRow(mask, i) && !fits) {
          return base::InvalidArgument(fmt::format(
              "column '{}' (HUGEINT) holds a value outside the int64 range", plan.name));
        }
        int_scratch[i] = static_cast<std::int64_t>(values[i].lower);
      }
      column.AppendFixedRaw(int_scratch.data(), mask, n);
      break;
    }
    case Conversion::kFloat: {
      double_scratch.resize(n);
      const auto* values = static_cast<const float*>(data);
      for (idx_t i = 0; i < n; ++i)
        double_scratch[i] = values[i];
      column.AppendFixedRaw(double_scratch.data(), mask, n);
      break;
    }
    case Conversion::kDecimal:
      double_scratch.resize(n);
      switch (plan.decimal_storage) {
        case DUCKDB_TYPE_SMALLINT:
          DecimalToDouble<std::int16_t>(data, n, plan.decimal_divisor, double_scratch);
          break;
        case DUCKDB_TYPE_INTEGER:
          DecimalToDouble<std::int32_t>(data, n, plan.decimal_divisor, double_scratch);
          break;
        case DUCKDB_TYPE_BIGINT:
          DecimalToDouble<std::int64_t>(data, n, plan.decimal_divisor, double_scratch);
          break;
        default: {
          const auto* values = static_cast<const duckdb_hugeint*>(data);
          for (idx_t i = 0; i < n; ++i) {
            const double v = static_cast<double>(values[i].upper) * 18446744073709551616.0 +
                             static_cast<double>(values[i].lower);
            double_scratch[i] = v / plan.decimal_divisor;
          }
        }
      }
      column.AppendFixedRaw(double_scratch.data(), mask, n);
      break;
    case Conversion::kTimeScale: {
      int_scratch.resize(n);
      const auto* values = static_cast<const std::int64_t*>(data);
      for (idx_t i = 0; i < n; ++i) {
        if (plan.source == DUCKDB_TYPE_TIMESTAMP_NS) {
          // Floor, so that an instant never moves to a later microsecond.
          int_scratch[i] = values[i] / 1000 - (values[i] % 1000 < 0 ? 1 : 0);
        } else {
          const std::int64_t factor = plan.source == DUCKDB_TYPE_TIMESTAMP_S ? 1000000 : 1000;
          if (IsValidRow(mask, i) &&
              (values[i] > std::numeric_limits<std::int64_t>::max() / factor ||
               values[i] < std::numeric_limits<std::int64_t>::min() / factor)) {
            return base::InvalidArgument(fmt::format(
                "column '{}' holds a timestamp outside the microsecond range", plan.name));
          }
          int_scratch[i] = values[i] * factor;
        }
      }
      column.AppendFixedRaw(int_scratch.data(), mask, n);
      break;
    }
    case Conversion::kString: {
      const auto* values = static_cast<const duckdb_string_t*>(data);
      for (idx_t i = 0; i < n; ++i) {
        if (!IsValidRow(mask, i)) {
          column.AppendNull();
          continue;
        }
        const duckdb_string_t& s = values[i];
        const std::uint32_t length = s.value.inlined.length;
        // Column offsets are 32-bit.
        if (column.string_bytes().size() + length > std::numeric_limits<std::uint32_t>::max()) {
          return base::InvalidArgument(fmt::format(
              "column '{}' holds more than 4 GiB of text; query fewer rows at a time", plan.name));
        }
        const char* chars =
            duckdb_string_is_inlined(s) ? s.value.inlined.inlined : s.value.pointer.ptr;
        column.AppendString(std::string_view(chars, length));
      }
      return Status::Ok();
    }
  }
  ZeroNullSlots(column, first_row, mask, n);
  return Status::Ok();
}

duckdb_type DuckDbTypeId(LogicalType type) {
  switch (type) {
    case LogicalType::kBool:
      return DUCKDB_TYPE_BOOLEAN;
    case LogicalType::kInt64:
      return DUCKDB_TYPE_BIGINT;
    case LogicalType::kDouble:
      return DUCKDB_TYPE_DOUBLE;
    case LogicalType::kString:
      return DUCKDB_TYPE_VARCHAR;
    case LogicalType::kTimestamp:
      return DUCKDB_TYPE_TIMESTAMP;
    case LogicalType::kDate:
      return DUCKDB_TYPE_DATE;
  }
  return DUCKDB_TYPE_INVALID;
}

class AppenderGuard {
 public:
  AppenderGuard() = default;
  ~AppenderGuard() {
    if (appender_ != nullptr) duckdb_appender_destroy(&appender_);
  }
  AppenderGuard(const AppenderGuard&) = delete;
  AppenderGuard& operator=(const AppenderGuard&) = delete;
  duckdb_appender* out() { return &appender_; }
  duckdb_appender get() const { return appender_; }

  Status Error(std::string_view table) const {
    duckdb_error_data error = duckdb_appender_error_data(appender_);
    Status s =
        FromDuckDbError(duckdb_error_data_error_type(error), duckdb_error_data_message(error));
    duckdb_destroy_error_data(&error);
    return std::move(s).WithContext(fmt::format("appending to table '{}'", table));
  }

 private:
  duckdb_appender appender_ = nullptr;
};

// Fills `chunk` with rows [first, first + n) of `batch`: every column, or the chunk's vector i
// with column (*columns)[i] (a scan's projection). Validity words copy whole because `first` is
// a multiple of the chunk capacity, itself a multiple of 64.
void FillChunk(const types::Batch& batch, size_t first, idx_t n, duckdb_data_chunk chunk,
               const std::vector<idx_t>* columns = nullptr) {
  const size_t count = columns != nullptr ? columns->size() : batch.num_columns();
  for (size_t out = 0; out < count; ++out) {
    const size_t c = columns != nullptr ? (*columns)[out] : out;
    duckdb_vector vector = duckdb_data_chunk_get_vector(chunk, out);
    duckdb_vector_ensure_validity_writable(vector);
    std::uint64_t* mask = duckdb_vector_get_validity(vector);
    if (c >= batch.num_columns()) {
      // A column the batch does not have (DuckDB's row id, asked for by a count(*)): its values
      // are never read.
      std::memset(mask, 0, ((n + 63) / 64) * sizeof(std::uint64_t));
      continue;
    }
    const types::Column& column = batch.column(c);
    std::memcpy(mask, column.validity() + first / 64, ((n + 63) / 64) * sizeof(std::uint64_t));
    if (column.type() == LogicalType::kString) {
      for (idx_t i = 0; i < n; ++i) {
        if (!column.IsValid(first + i)) continue;
        const std::string_view s = column.GetString(first + i);
        duckdb_vector_assign_string_element_len(vector, i, s.data(), s.size());
      }
    } else {
      const size_t width = types::FixedWidth(column.type());
      std::memcpy(duckdb_vector_get_data(vector), column.data() + first * width, n * width);
    }
  }
  duckdb_data_chunk_set_size(chunk, n);
}

void AppendDouble(std::string& out, double v) {
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, ec == std::errc() ? end : buf);
}

}  // namespace

namespace {
// The database instance, shared by every connection made with Connect(); closed with the last.
struct SharedDatabase {
  duckdb_database db = nullptr;
  std::mutex register_mu;  // one catalog write at a time (FoldNumbers' functions)
  ~SharedDatabase() {
    if (db != nullptr) duckdb_close(&db);
  }
};

// Where a connection's fold function hands the chunks of the query that runs it: set for the
// duration of one FoldNumbers call. Shared with the function's extra info, which the catalog
// keeps until the database closes: a call after the connection is gone finds no visitor.
struct FoldTarget {
  const std::function<void(const DuckDb::NumberChunk&)>* visit = nullptr;
};

struct FoldInfo {
  std::shared_ptr<FoldTarget> target;
  LogicalType type = LogicalType::kDouble;
};

// The fold function: every chunk of its argument to the visitor, each row's result false (so a
// WHERE on it passes nothing on).
void FoldFunction(duckdb_function_info info, duckdb_data_chunk input, duckdb_vector output) {
  const auto* fold = static_cast<const FoldInfo*>(duckdb_scalar_function_get_extra_info(info));
  const idx_t n = duckdb_data_chunk_get_size(input);
  const auto* visit = fold->target->visit;
  if (visit == nullptr) {
    duckdb_scalar_function_set_error(info, "a sluice fold function ran outside FoldNumbers");
    return;
  }
  duckdb_vector vector = duckdb_data_chunk_get_vector(input, 0);
  DuckDb::NumberChunk chunk;
  chunk.type = fold->type;
  chunk.values = duckdb_vector_get_data(vector);
  chunk.validity = duckdb_vector_get_validity(vector);
  chunk.rows = n;
  (*visit)(chunk);
  std::memset(duckdb_vector_get_data(output), 0, n * sizeof(bool));
}
}  // namespace

struct DuckDb::Handles {
  std::shared_ptr<SharedDatabase> shared = std::make_shared<SharedDatabase>();
  duckdb_connection conn = nullptr;
  std::uint64_t next_staging_id = 0;
  // FoldNumbers' functions on this connection, once registered: their name's prefix.
  std::string fold_name;
  std::shared_ptr<FoldTarget> fold_target = std::make_shared<FoldTarget>();
  ~Handles() {
    fold_target->visit = nullptr;
    if (conn != nullptr) duckdb_disconnect(&conn);
  }
};

DuckDb::DuckDb(std::unique_ptr<Handles> handles) : handles_(std::move(handles)) {}
DuckDb::DuckDb(DuckDb&&) noexcept = default;
DuckDb& DuckDb::operator=(DuckDb&&) noexcept = default;
DuckDb::~DuckDb() = default;

std::string_view DuckDb::Version() {
  return duckdb_library_version();
}

base::Result<DuckDb> DuckDb::Open(const std::string& path, const Options& options) {
  if (path.find('\0') != std::string::npos) {
    return base::InvalidArgument("database path contains a NUL byte");
  }
  if (options.threads < 0) {
    return base::InvalidArgument(fmt::format("threads must be >= 0, got {}", options.threads));
  }
  duckdb_config config = nullptr;
  if (duckdb_create_config(&config) == DuckDBError) {
    return base::Internal("could not allocate a DuckDB configuration");
  }
  struct ConfigGuard {
    duckdb_config* c;
    ~ConfigGuard() { duckdb_destroy_config(c); }
  } config_guard{&config};

  auto set = [&](const char* name, const std::string& value) -> Status {
    if (duckdb_set_config(config, name, value.c_str()) == DuckDBError) {
      return base::InvalidArgument(fmt::format("invalid DuckDB setting {}='{}'", name, value));
    }
    return Status::Ok();
  };
  if (options.threads > 0) SLUICE_RETURN_IF_ERROR(set("threads", std::to_string(options.threads)));
  if (options.memory_limit) SLUICE_RETURN_IF_ERROR(set("memory_limit", *options.memory_limit));
  if (options.read_only) SLUICE_RETURN_IF_ERROR(set("access_mode", "READ_ONLY"));
  // Extensions must come from the pinned library, never from the network at run time.
  SLUICE_RETURN_IF_ERROR(set("autoinstall_known_extensions", "false"));

  auto handles = std::make_unique<Handles>();
  char* error = nullptr;
  const char* open_path = path.empty() ? ":memory:" : path.c_str();
  if (duckdb_open_ext(open_path, &handles->shared->db, config, &error) == DuckDBError) {
    std::string text = error != nullptr ? error : "unknown error";
    if (error != nullptr) duckdb_free(error);
    // Opening fails for file-system reasons (missing directory, lock, permissions) or for a bad
    // setting value, which DuckDB only checks here.
    const bool is_setting = text.find("Invalid Input") != std::string::npos ||
                            text.find("Failed to set") != std::string::npos;
    std::string message = fmt::format("could not open DuckDB database '{}': {}", path, text);
    if (is_setting) return base::InvalidArgument(std::move(message));
    return base::IoError(std::move(message), text.find("lock") != std::string::npos);
  }
  if (duckdb_connect(handles->shared->db, &handles->conn) == DuckDBError) {
    return base::Internal(fmt::format("could not connect to DuckDB database '{}'", path));
  }
  return DuckDb(std::move(handles));
}

base::Result<DuckDb> DuckDb::Connect() const {
  SLUICE_RETURN_IF_ERROR(CheckOpen());
  auto handles = std::make_unique<Handles>();
  handles->shared = handles_->shared;
  if (duckdb_connect(handles->shared->db, &handles->conn) == DuckDBError) {
    return base::Internal("could not open another connection to a DuckDB database");
  }
  return DuckDb(std::move(handles));
}

Status DuckDb::CheckOpen() const {
  if (handles_ == nullptr) return base::FailedPrecondition("DuckDb used after being moved from");
  return Status::Ok();
}

Status DuckDb::Execute(std::string_view sql) {
  SLUICE_RETURN_IF_ERROR(CheckOpen());
  ResultGuard result;
  return RunQuery(handles_->conn, sql, result.get());
}

Status DuckDb::ExecuteWithProgress(std::string_view sql,
                                   const std::function<void(double)>& progress) {
  SLUICE_RETURN_IF_ERROR(CheckOpen());
  if (!progress) return Execute(sql);
  // DuckDB only tracks progress with its progress bar enabled; printing stays off.
  SLUICE_RETURN_IF_ERROR(
      Execute("SET enable_progress_bar = true; SET enable_progress_bar_print = false"));
  std::atomic<bool> done{false};
  duckdb_connection conn = handles_->conn;
  // duckdb_query_progress is safe to call from another thread while the query runs.
  std::thread poller([&] {
    while (!done.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      if (done.load()) break;
      const duckdb_query_progress_type p = duckdb_query_progress(conn);
      if (p.percentage >= 0) progress(p.percentage / 100.0);
    }
  });
  ResultGuard result;
  Status status = RunQuery(conn, sql, result.get());
  done.store(true);
  poller.join();
  return status;
}

namespace {

// Converts every chunk of `result` into a Batch.
// The result's columns, planned for conversion, and an empty batch of them.
base::Result<types::Batch> PlanResult(duckdb_result* result, std::vector<ColumnPlan>& plans) {
  const idx_t num_columns = duckdb_column_count(result);
  std::vector<types::Field> fields;
  for (idx_t c = 0; c < num_columns; ++c) {
    SLUICE_ASSIGN_OR_RETURN(ColumnPlan plan, PlanColumn(result, c));
    fields.push_back({plan.name, plan.type, /*nullable=*/true});
    plans.push_back(std::move(plan));
  }
  auto schema = types::Schema::Make(std::move(fields));
  if (!schema.ok()) {
    return base::InvalidArgument("query result has unusable column names (alias them): " +
                                 schema.status().message());
  }
  return types::Batch(std::move(*schema));
}

// Converts every chunk of `result` onto the end of `batch`'s columns; `after_chunk` runs after
// each (and may clear the batch).
base::Status ConvertChunks(duckdb_result* result, const std::vector<ColumnPlan>& plans,
                           types::Batch& batch,
                           const std::function<base::Status(types::Batch&)>& after_chunk) {
  std::vector<std::int64_t> int_scratch;
  std::vector<double> double_scratch;
  while (true) {
    ChunkGuard chunk(duckdb_fetch_chunk(*result));
    if (chunk.get() == nullptr) break;
    const idx_t n = duckdb_data_chunk_get_size(chunk.get());
    if (n == 0) break;
    for (idx_t c = 0; c < plans.size(); ++c) {
      SLUICE_RETURN_IF_ERROR(ConvertVector(plans[c], duckdb_data_chunk_get_vector(chunk.get(), c),
                                           n, batch.column(c), int_scratch, double_scratch));
    }
    if (after_chunk) SLUICE_RETURN_IF_ERROR(after_chunk(batch));
  }
  // A query can still fail while its result streams (e.g. a conversion error in a later chunk).
  const char* late_error = duckdb_result_error(result);
  if (late_error != nullptr) {
    return FromDuckDbError(duckdb_result_error_type(result), late_error);
  }
  return base::Status::Ok();
}

base::Result<types::Batch> DrainResult(duckdb_result* result, size_t expected_rows) {
  std::vector<ColumnPlan> plans;
  SLUICE_ASSIGN_OR_RETURN(types::Batch batch, PlanResult(result, plans));
  for (size_t c = 0; c < plans.size(); ++c)
    batch.column(c).Reserve(expected_rows);
  SLUICE_RETURN_IF_ERROR(ConvertChunks(result, plans, batch, nullptr));
  return batch;
}

class PreparedGuard {
 public:
  PreparedGuard() = default;
  ~PreparedGuard() {
    if (prepared_ != nullptr) duckdb_destroy_prepare(&prepared_);
  }
  PreparedGuard(const PreparedGuard&) = delete;
  PreparedGuard& operator=(const PreparedGuard&) = delete;
  duckdb_prepared_statement* out() { return &prepared_; }
  duckdb_prepared_statement get() const { return prepared_; }

 private:
  duckdb_prepared_statement prepared_ = nullptr;
};

class PendingGuard {
 public:
  PendingGuard() = default;
  ~PendingGuard() {
    if (pending_ != nullptr) duckdb_destroy_pending(&pending_);
  }
  PendingGuard(const PendingGuard&) = delete;
  PendingGuard& operator=(const PendingGuard&) = delete;
  duckdb_pending_result* out() { return &pending_; }
  duckdb_pending_result get() const { return pending_; }

 private:
  duckdb_pending_result pending_ = nullptr;
};

}  // namespace

base::Result<types::Batch> DuckDb::Query(std::string_view sql) {
  SLUICE_RETURN_IF_ERROR(CheckOpen());
  ResultGuard result;
  SLUICE_RETURN_IF_ERROR(RunQuery(handles_->conn, sql, result.get()));
  return DrainResult(result.get(), 0);
}

base::Result<types::Batch> DuckDb::QueryStreaming(std::string_view sql, size_t expected_rows) {
  SLUICE_RETURN_IF_ERROR(CheckOpen());
  SLUICE_ASSIGN_OR_RETURN(std::string text, TerminatedSql(sql));
  {
    PreparedGuard prepared;
    PendingGuard pending;
    // duckdb_pending_prepared_streaming is the 1.4 C API's only streaming entry point (marked
    // for removal in a later release).
    if (duckdb_prepare(handles_->conn, text.c_str(), prepared.out()) == DuckDBSuccess &&
        duckdb_pending_prepared_streaming(prepared.get(), pending.out()) == DuckDBSuccess) {
      ResultGuard result;
      if (duckdb_execute_pending(pending.get(), result.get()) == DuckDBError) {
        return FromDuckDbError(duckdb_result_error_type(result.get()),
                               duckdb_result_error(result.get()));
      }
      return DrainResult(result.get(), expected_rows);
    }
  }
  // Failing before any row: Query reports the error with its kind, which a prepared statement
  // does not give (only the text).
  return Query(sql);
}

base::Status DuckDb::QueryChunks(std::string_view sql,
                                 const std::function<base::Status(const types::Batch&)>& visit) {
  SLUICE_RETURN_IF_ERROR(CheckOpen());
  SLUICE_ASSIGN_OR_RETURN(std::string text, TerminatedSql(sql));
  PreparedGuard prepared;
  PendingGuard pending;
  if (duckdb_prepare(handles_->conn, text.c_str(), prepared.out()) != DuckDBSuccess ||
      duckdb_pending_prepared_streaming(prepared.get(), pending.out()) != DuckDBSuccess) {
    // Running the text gives the error with its kind (a prepared statement gives only the text).
    SLUICE_RETURN_IF_ERROR(Execute(sql));
    return base::Internal("DuckDB could not prepare a statement it runs: " + std::string(sql));
  }
  ResultGuard result;
  if (duckdb_execute_pending(pending.get(), result.get()) == DuckDBError) {
    return FromDuckDbError(duckdb_result_error_type(result.get()),
                           duckdb_result_error(result.get()));
  }
  std::vector<ColumnPlan> plans;
  SLUICE_ASSIGN_OR_RETURN(types::Batch batch, PlanResult(result.get(), plans));
  return ConvertChunks(result.get(), plans, batch, [&](types::Batch& b) {
    base::Status s = visit(b);
    for (size_t c = 0; c < b.num_columns(); ++c)
      b.column(c).Clear();
    return s;
  });
}

base::Status DuckDb::QueryNumberChunks(
    std::string_view sql, const std::function<base::Status(const NumberChunk&)>& visit) {
  SLUICE_RETURN_IF_ERROR(CheckOpen());
  SLUICE_ASSIGN_OR_RETURN(std::string text, TerminatedSql(sql));
  PreparedGuard prepared;
  PendingGuard pending;
  if (duckdb_prepare(handles_->conn, text.c_str(), prepared.out()) != DuckDBSuccess ||
      duckdb_pending_prepared_streaming(prepared.get(), pending.out()) != DuckDBSuccess) {
    SLUICE_RETURN_IF_ERROR(Execute(sql));
    return base::Internal("DuckDB could not prepare a statement it runs: " + std::string(sql));
  }
  ResultGuard result;
  if (duckdb_execute_pending(pending.get(), result.get()) == DuckDBError) {
    return FromDuckDbError(duckdb_result_error_type(result.get()),
                           duckdb_result_error(result.get()));
  }
  if (duckdb_column_count(result.get()) != 1) {
    return base::InvalidArgument(
        fmt::format("expected one result column, got {}", duckdb_column_count(result.get())));
  }
  SLUICE_ASSIGN_OR_RETURN(const ColumnPlan plan, PlanColumn(result.get(), 0));
  if (plan.type != LogicalType::kInt64 && plan.type != LogicalType::kDouble) {
    LogicalTypeGuard type(duckdb_column_logical_type(result.get(), 0));
    return base::InvalidArgument(fmt::format("column '{}' has type {}, which is not a number",
                                             plan.name, TypeToString(type.get())));
  }
  // BIGINT and DOUBLE are read in place; the other numbers converted first (one chunk at a time).
  const bool in_place = plan.conversion == Conversion::kCopy;
  types::Column converted(plan.type);
  std::vector<std::int64_t> int_scratch;
  std::vector<double> double_scratch;
  NumberChunk numbers;
  numbers.type = plan.type;
  while (true) {
    ChunkGuard chunk(duckdb_fetch_chunk(*result.get()));
    if (chunk.get() == nullptr) break;
    const idx_t n = duckdb_data_chunk_get_size(chunk.get());
    if (n == 0) break;
    duckdb_vector vector = duckdb_data_chunk_get_vector(chunk.get(), 0);
    numbers.rows = n;
    if (in_place) {
      numbers.values = duckdb_vector_get_data(vector);
      numbers.validity = duckdb_vector_get_validity(vector);
    } else {
      converted.Clear();
      SLUICE_RETURN_IF_ERROR(
          ConvertVector(plan, vector, n, converted, int_scratch, double_scratch));
      numbers.values = converted.data();
      numbers.validity = converted.validity();
    }
    SLUICE_RETURN_IF_ERROR(visit(numbers));
  }
  const char* late_error = duckdb_result_error(result.get());
  if (late_error != nullptr) {
    return FromDuckDbError(duckdb_result_error_type(result.get()), late_error);
  }
  return base::Status::Ok();
}

base::Status DuckDb::FoldNumbers(std::string_view sql,
                                 const std::function<void(const NumberChunk&)>& visit) {
  SLUICE_RETURN_IF_ERROR(CheckOpen());
  // In DuckDB's pipeline only on one thread: several would call the function at once, with the
  // chunks out of order.
  SLUICE_ASSIGN_OR_RETURN(const std::int64_t threads,
                          QueryScalarInt64("SELECT current_setting('threads')::BIGINT"));
  std::optional<LogicalType> type;
  if (threads == 1) {
    SLUICE_ASSIGN_OR_RETURN(std::string text, TerminatedSql(sql));
    PreparedGuard prepared;
    if (duckdb_prepare(handles_->conn, text.c_str(), prepared.out()) == DuckDBSuccess &&
        duckdb_prepared_statement_column_count(prepared.get()) == 1) {
      const duckdb_type id = duckdb_prepared_statement_column_type(prepared.get(), 0);
      if (id == DUCKDB_TYPE_BIGINT) type = LogicalType::kInt64;
      if (id == DUCKDB_TYPE_DOUBLE) type = LogicalType::kDouble;
    }
  }
  if (!type) {
    // Other types (converted as Query does) and errors: through a streamed result.
    return QueryNumberChunks(sql, [&](const NumberChunk& chunk) {
      visit(chunk);
      return base::Status::Ok();
    });
  }
  if (handles_->fold_name.empty()) {
    static std::atomic<std::uint64_t> next_fold{0};
    const std::string name = fmt::format("sluice_fold_{}", next_fold++);
    std::lock_guard<std::mutex> lock(handles_->shared->register_mu);
    for (const auto& [suffix, parameter, kind] :
         {std::tuple{"_d", DUCKDB_TYPE_DOUBLE, LogicalType::kDouble},
          std::tuple{"_i", DUCKDB_TYPE_BIGINT, LogicalType::kInt64}}) {
      duckdb_scalar_function f = duckdb_create_scalar_function();
      const std::string full = name + suffix;
      duckdb_scalar_function_set_name(f, full.c_str());
      LogicalTypeGuard argument(duckdb_create_logical_type(parameter));
      LogicalTypeGuard boolean(duckdb_create_logical_type(DUCKDB_TYPE_BOOLEAN));
      duckdb_scalar_function_add_parameter(f, argument.get());
      duckdb_scalar_function_set_return_type(f, boolean.get());
      duckdb_scalar_function_set_function(f, FoldFunction);
      // Called on every chunk, NULL rows included; never folded away or cached.
      duckdb_scalar_function_set_special_handling(f);
      duckdb_scalar_function_set_volatile(f);
      duckdb_scalar_function_set_extra_info(f, new FoldInfo{handles_->fold_target, kind},
                                            [](void* p) { delete static_cast<FoldInfo*>(p); });
      const duckdb_state registered = duckdb_register_scalar_function(handles_->conn, f);
      duckdb_destroy_scalar_function(&f);
      if (registered == DuckDBError) {
        return base::Internal("could not register DuckDB function " + full);
      }
    }
    handles_->fold_name = name;
  }
  const std::string fold_sql =
      fmt::format("SELECT count(*) FROM ({}) AS q(v) WHERE {}{}(v)", sql, handles_->fold_name,
                  *type == LogicalType::kInt64 ? "_i" : "_d");
  handles_->fold_target->visit = &visit;
  ResultGuard result;
  const Status ran = RunQuery(handles_->conn, fold_sql, result.get());
  handles_->fold_target->visit = nullptr;
  return ran;
}

struct DuckDb::Prepared::Handle {
  duckdb_prepared_statement statement = nullptr;
  ~Handle() {
    if (statement != nullptr) duckdb_destroy_prepare(&statement);
  }
};

DuckDb::Prepared::Prepared(std::unique_ptr<Handle> handle) : handle_(std::move(handle)) {}
DuckDb::Prepared::Prepared(Prepared&&) noexcept = default;
DuckDb::Prepared& DuckDb::Prepared::operator=(Prepared&&) noexcept = default;
DuckDb::Prepared::~Prepared() = default;

base::Result<types::Batch> DuckDb::Prepared::Run() {
  if (handle_ == nullptr) {
    return base::FailedPrecondition("prepared statement used after being moved from");
  }
  ResultGuard result;
  if (duckdb_execute_prepared(handle_->statement, result.get()) == DuckDBError) {
    return FromDuckDbError(duckdb_result_error_type(result.get()),
                           duckdb_result_error(result.get()));
  }
  return DrainResult(result.get(), 0);
}

base::Result<DuckDb::Prepared> DuckDb::Prepare(std::string_view sql) {
  SLUICE_RETURN_IF_ERROR(CheckOpen());
  SLUICE_ASSIGN_OR_RETURN(std::string text, TerminatedSql(sql));
  auto handle = std::make_unique<Prepared::Handle>();
  if (duckdb_prepare(handles_->conn, text.c_str(), &handle->statement) == DuckDBSuccess) {
    return Prepared(std::move(handle));
  }
  // A prepared statement's error has no kind: running the text gives the same error with one.
  SLUICE_RETURN_IF_ERROR(Execute(sql));
  return base::Internal(std::string("DuckDB could not prepare a statement it runs: ") +
                        duckdb_prepare_error(handle->statement));
}

base::Result<std::string> DuckDb::QueryScalarString(std::string_view sql) {
  SLUICE_ASSIGN_OR_RETURN(types::Batch batch, Query(sql));
  if (batch.num_columns() != 1) {
    return base::InvalidArgument(
        fmt::format("expected one result column, got {}", batch.num_columns()));
  }
  if (batch.num_rows() == 0) return base::NotFound("the query returned no rows");
  const types::Column& column = batch.column(0);
  if (!column.IsValid(0)) return base::NotFound("the query returned NULL");
  switch (column.type()) {
    case LogicalType::kString:
      return std::string(column.GetString(0));
    case LogicalType::kDouble: {
      std::string out;
      AppendDouble(out, column.GetDouble(0));
      return out;
    }
    default:
      return column.ValueToString(0);
  }
}

base::Result<std::int64_t> DuckDb::QueryScalarInt64(std::string_view sql) {
  SLUICE_ASSIGN_OR_RETURN(types::Batch batch, Query(sql));
  if (batch.num_columns() != 1) {
    return base::InvalidArgument(
        fmt::format("expected one result column, got {}", batch.num_columns()));
  }
  if (batch.num_rows() == 0) return base::NotFound("the query returned no rows");
  const types::Column& column = batch.column(0);
  if (!column.IsValid(0)) return base::NotFound("the query returned NULL");
  switch (column.type()) {
    case LogicalType::kInt64:
      return column.GetInt64(0);
    case LogicalType::kBool:
      return std::int64_t{column.GetBool(0) ? 1 : 0};
    default:
      return base::InvalidArgument(
          fmt::format("expected an integer result, got {}", types::LogicalTypeName(column.type())));
  }
}

base::Result<int> DuckDb::SwapThreads(int threads) {
  SLUICE_ASSIGN_OR_RETURN(const std::int64_t previous,
                          QueryScalarInt64("SELECT current_setting('threads')::BIGINT"));
  SLUICE_RETURN_IF_ERROR(Execute("SET threads = " + std::to_string(threads)));
  return static_cast<int>(previous);
}

Status DuckDb::Append(std::string_view table, const types::Batch& batch) {
  SLUICE_RETURN_IF_ERROR(CheckOpen());
  SLUICE_RETURN_IF_ERROR(batch.Validate());
  if (batch.num_columns() == 0)
    return base::InvalidArgument("cannot append a batch with no columns");
  SLUICE_RETURN_IF_ERROR(TerminatedSql(table).status());
  const std::string context = fmt::format("appending to table '{}'", table);

  // The batch goes to a private staging table first and then into the target with one
  // INSERT ... BY NAME. That single statement is what makes the append all-or-nothing (the
  // appender itself commits every flush, and an explicit BEGIN would break a caller's open
  // transaction), and it lets DuckDB match columns by name and cast to the table's types,
  // which the appender does not do.
  const std::string staging = fmt::format("__sluice_append_{}", handles_->next_staging_id++);
  std::string create = "CREATE TEMP TABLE " + QuoteIdentifier(staging) + " (";
  for (size_t i = 0; i < batch.num_columns(); ++i) {
    const types::Field& f = batch.schema().field(i);
    SLUICE_RETURN_IF_ERROR(TerminatedSql(f.name).status());
    if (i > 0) create += ", ";
    create += QuoteIdentifier(f.name);
    create += ' ';
    create += DuckDbTypeName(f.type);
  }
  create += ')';
  SLUICE_RETURN_IF_ERROR(Execute(create).WithContext(context));
  const std::string staged = "temp.main." + QuoteIdentifier(staging);

  Status status = [&]() -> Status {
    AppenderGuard appender;
    if (duckdb_appender_create_ext(handles_->conn, "temp", "main", staging.c_str(),
                                   appender.out()) == DuckDBError) {
      return appender.Error(table);
    }
    std::vector<duckdb_logical_type> chunk_types;
    for (const types::Field& field : batch.schema().fields()) {
      chunk_types.push_back(duckdb_create_logical_type(DuckDbTypeId(field.type)));
    }
    ChunkGuard chunk(duckdb_create_data_chunk(chunk_types.data(), chunk_types.size()));
    for (auto& t : chunk_types)
      duckdb_destroy_logical_type(&t);

    const size_t capacity = duckdb_vector_size();
    for (size_t first = 0; first < batch.num_rows(); first += capacity) {
      const idx_t n = std::min(capacity, batch.num_rows() - first);
      duckdb_data_chunk_reset(chunk.get());
      FillChunk(batch, first, n, chunk.get());
      if (duckdb_append_data_chunk(appender.get(), chunk.get()) == DuckDBError) {
        return appender.Error(table);
      }
    }
    if (duckdb_appender_close(appender.get()) == DuckDBError) return appender.Error(table);
    return Execute("INSERT INTO " + QuoteIdentifier(table) + " BY NAME SELECT * FROM " + staged)
        .WithContext(context);
  }();
  // A failed INSERT inside the caller's transaction aborts it; the DROP then fails too and the
  // temp table goes with the rollback, so its error adds nothing.
  (void)Execute("DROP TABLE IF EXISTS " + staged);
  return status;
}

namespace {

// The table function behind RegisterBatch: extra info = the Batch, init data = the next row and
// the columns the query reads (projection pushdown: a view's row SQL reads a few of a stream's
// columns, and copying the others' strings into DuckDB was most of its scan).
struct BatchScanState {
  size_t next = 0;
  std::vector<idx_t> columns;
};

void BatchBind(duckdb_bind_info info) {
  const auto* batch = static_cast<const types::Batch*>(duckdb_bind_get_extra_info(info));
  for (const types::Field& field : batch->schema().fields()) {
    duckdb_logical_type type = duckdb_create_logical_type(DuckDbTypeId(field.type));
    duckdb_bind_add_result_column(info, field.name.c_str(), type);
    duckdb_destroy_logical_type(&type);
  }
}

void BatchInit(duckdb_init_info info) {
  auto state = std::make_unique<BatchScanState>();
  const idx_t count = duckdb_init_get_column_count(info);
  for (idx_t i = 0; i < count; ++i)
    state->columns.push_back(duckdb_init_get_column_index(info, i));
  duckdb_init_set_init_data(info, state.release(),
                            [](void* s) { delete static_cast<BatchScanState*>(s); });
  duckdb_init_set_max_threads(info, 1);  // rows in order
}

void BatchScan(duckdb_function_info info, duckdb_data_chunk output) {
  const auto* batch = static_cast<const types::Batch*>(duckdb_function_get_extra_info(info));
  auto& state = *static_cast<BatchScanState*>(duckdb_function_get_init_data(info));
  // `next` stays a multiple of the vector size, as FillChunk's word-wise validity copy needs.
  const idx_t n = std::min<size_t>(duckdb_vector_size(), batch->num_rows() - state.next);
  if (n == 0) {
    duckdb_data_chunk_set_size(output, 0);
    return;
  }
  FillChunk(*batch, state.next, n, output, &state.columns);
  state.next += n;
}

// Registers the table function `text` (the name, NUL-terminated) reading `extra`, which the
// caller keeps alive while the connection may call it (not owned).
Status RegisterTableFunction(duckdb_connection conn, std::string_view name, const std::string& text,
                             void* extra, duckdb_table_function_bind_t bind,
                             duckdb_table_function_init_t init, duckdb_table_function_t scan,
                             bool projection_pushdown) {
  duckdb_table_function function = duckdb_create_table_function();
  duckdb_table_function_set_name(function, text.c_str());
  duckdb_table_function_set_extra_info(function, extra, [](void*) {});
  duckdb_table_function_set_bind(function, bind);
  duckdb_table_function_set_init(function, init);
  duckdb_table_function_set_function(function, scan);
  if (projection_pushdown) duckdb_table_function_supports_projection_pushdown(function, true);
  const bool ok = duckdb_register_table_function(conn, function) == DuckDBSuccess;
  duckdb_destroy_table_function(&function);
  if (!ok) {
    return base::InvalidArgument(
        fmt::format("could not register table function '{}' (is the name taken?)", name));
  }
  return Status::Ok();
}

}  // namespace

Status DuckDb::RegisterBatch(std::string_view name, const types::Batch* batch) {
  SLUICE_RETURN_IF_ERROR(CheckOpen());
  SLUICE_ASSIGN_OR_RETURN(std::string text, TerminatedSql(name));
  SLUICE_RETURN_IF_ERROR(batch->Validate());
  for (const types::Field& field : batch->schema().fields()) {
    SLUICE_RETURN_IF_ERROR(TerminatedSql(field.name).status());
  }
  return RegisterTableFunction(handles_->conn, name, text, const_cast<types::Batch*>(batch),
                               BatchBind, BatchInit, BatchScan, /*projection_pushdown=*/true);
}

Status DuckDb::CreateTable(std::string_view table, const types::Schema& schema,
                           bool replace_existing) {
  if (schema.size() == 0) return base::InvalidArgument("cannot create a table with no columns");
  std::string sql = replace_existing ? "CREATE OR REPLACE TABLE " : "CREATE TABLE ";
  sql += QuoteIdentifier(table);
  sql += " (";
  for (size_t i = 0; i < schema.size(); ++i) {
    const types::Field& f = schema.field(i);
    if (i > 0) sql += ", ";
    sql += QuoteIdentifier(f.name);
    sql += ' ';
    sql += DuckDbTypeName(f.type);
    if (!f.nullable) sql += " NOT NULL";
  }
  sql += ')';
  return Execute(sql);
}

std::string QuoteIdentifier(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 2);
  out += '"';
  for (char c : name) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
  return out;
}

std::string QuoteLiteral(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '\'';
  for (char c : text) {
    if (c == '\'') out += '\'';
    out += c;
  }
  out += '\'';
  return out;
}

std::string_view DuckDbTypeName(types::LogicalType type) {
  switch (type) {
    case LogicalType::kBool:
      return "BOOLEAN";
    case LogicalType::kInt64:
      return "BIGINT";
    case LogicalType::kDouble:
      return "DOUBLE";
    case LogicalType::kString:
      return "VARCHAR";
    case LogicalType::kTimestamp:
      return "TIMESTAMP";
    case LogicalType::kDate:
      return "DATE";
  }
  return "VARCHAR";
}

base::Result<DuckDb> OpenFeatureSqlDb(const DuckDb::Options& options) {
  SLUICE_ASSIGN_OR_RETURN(DuckDb db, DuckDb::Open(":memory:", options));
  SLUICE_RETURN_IF_ERROR(db.Execute(kFeatureSqlSession));
  return db;
}

base::Result<DuckDb> ConnectFeatureSql(const DuckDb& db) {
  SLUICE_ASSIGN_OR_RETURN(DuckDb connection, db.Connect());
  SLUICE_RETURN_IF_ERROR(connection.Execute(kFeatureSqlSession));
  return connection;
}

}  // namespace sluice::warehouse
