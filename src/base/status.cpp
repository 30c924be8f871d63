#include "base/status.h"

namespace sluice::base {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kInvalidArgument:
      return "invalid argument";
    case StatusCode::kNotFound:
      return "not found";
    case StatusCode::kAlreadyExists:
      return "already exists";
    case StatusCode::kFailedPrecondition:
      return "failed precondition";
    case StatusCode::kSchemaMismatch:
      return "schema mismatch";
    case StatusCode::kIoError:
      return "I/O error";
    case StatusCode::kCorruption:
      return "corruption";
    case StatusCode::kUnavailable:
      return "unavailable";
    case StatusCode::kTimeout:
      return "timeout";
    case StatusCode::kCancelled:
      return "cancelled";
    case StatusCode::kInternal:
      return "internal error";
  }
  return "unknown";
}

Status Status::WithContext(std::string what) const& {
  Status copy = *this;
  return std::move(copy).WithContext(std::move(what));
}

Status Status::WithContext(std::string what) && {
  if (!ok()) context_.insert(context_.begin(), std::move(what));
  return std::move(*this);
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string out;
  for (const auto& c : context_) {
    out += c;
    out += ": ";
  }
  out += message_.empty() ? std::string(StatusCodeName(code_)) : message_;
  return out;
}

Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
Status NotFound(std::string m) {
  return {StatusCode::kNotFound, std::move(m)};
}
Status AlreadyExists(std::string m) {
  return {StatusCode::kAlreadyExists, std::move(m)};
}
Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
Status SchemaMismatch(std::string m) {
  return {StatusCode::kSchemaMismatch, std::move(m)};
}
Status IoError(std::string m, bool retryable) {
  return {StatusCode::kIoError, std::move(m), retryable};
}
Status Corruption(std::string m) {
  return {StatusCode::kCorruption, std::move(m)};
}
Status Unavailable(std::string m) {
  return {StatusCode::kUnavailable, std::move(m), true};
}
Status Timeout(std::string m) {
  return {StatusCode::kTimeout, std::move(m), true};
}
Status Cancelled(std::string m) {
  return {StatusCode::kCancelled, std::move(m)};
}
Status Internal(std::string m) {
  return {StatusCode::kInternal, std::move(m)};
}

}  // namespace sluice::base
