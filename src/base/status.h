#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sluice::base {

// What went wrong, coarse enough for callers to branch on. Whether a retry can help is carried
// separately (Status::retryable) because the same code can be transient or not.
enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // bad input from the user: config, flags, values
  kNotFound,            // a named thing does not exist
  kAlreadyExists,       // creating something that is already there
  kFailedPrecondition,  // the system is not in a state that allows the operation
  kSchemaMismatch,      // data does not match its declared contract
  kIoError,             // the file system or a network peer failed
  kCorruption,          // stored data is damaged or does not verify
  kUnavailable,         // a service cannot be reached right now
  kTimeout,             // a deadline passed
  kCancelled,           // stopped on request
  kInternal,            // a bug in sluice or a dependency
};

std::string_view StatusCodeName(StatusCode code);

// An error as a value: code, message, whether retrying can help, and a chain of context added
// as the error travels up ("while loading sluice.yaml", "in source 'transactions'").
class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message, bool retryable = false)
      : code_(code), message_(std::move(message)), retryable_(retryable) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  bool retryable() const { return retryable_; }
  // Outermost context first.
  const std::vector<std::string>& context() const { return context_; }

  // Returns a copy with `what` prepended to the context chain. No-op on OK.
  Status WithContext(std::string what) const&;
  Status WithContext(std::string what) &&;

  // "context: context: message" (the form printed to users).
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  bool retryable_ = false;
  std::vector<std::string> context_;
};

Status InvalidArgument(std::string message);
Status NotFound(std::string message);
Status AlreadyExists(std::string message);
Status FailedPrecondition(std::string message);
Status SchemaMismatch(std::string message);
Status IoError(std::string message, bool retryable = false);
Status Corruption(std::string message);
Status Unavailable(std::string message);
Status Timeout(std::string message);
Status Cancelled(std::string message);
Status Internal(std::string message);

}  // namespace sluice::base

#define SLUICE_STATUS_CONCAT_INNER(a, b) a##b
#define SLUICE_STATUS_CONCAT(a, b) SLUICE_STATUS_CONCAT_INNER(a, b)

// Returns the Status of `expr` from the enclosing function if it is not OK.
#define SLUICE_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::sluice::base::Status sluice_status_ = (expr);  \
    if (!sluice_status_.ok()) return sluice_status_; \
  } while (false)
