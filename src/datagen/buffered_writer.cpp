#include "datagen/buffered_writer.h"

#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>

namespace sluice::datagen {

base::Result<BufferedWriter> BufferedWriter::Create(const std::filesystem::path& path) {
  std::FILE* file = std::fopen(path.c_str(), "wb");
  if (file == nullptr) {
    return base::IoError(
        fmt::format("cannot create '{}': {}", path.string(), std::strerror(errno)));
  }
  // Our own buffer already batches writes; a second one in stdio would only copy.
  std::setvbuf(file, nullptr, _IONBF, 0);
  return BufferedWriter(path, file);
}

BufferedWriter::BufferedWriter(std::filesystem::path path, std::FILE* file)
    : path_(std::move(path)), file_(file) {
  buffer_.reserve(kFlushBytes + (kFlushBytes / 4));
}

BufferedWriter::BufferedWriter(BufferedWriter&& other) noexcept
    : path_(std::move(other.path_)),
      file_(std::exchange(other.file_, nullptr)),
      buffer_(std::move(other.buffer_)),
      bytes_written_(other.bytes_written_) {}

BufferedWriter& BufferedWriter::operator=(BufferedWriter&& other) noexcept {
  if (this != &other) {
    if (file_ != nullptr) std::fclose(file_);
    path_ = std::move(other.path_);
    file_ = std::exchange(other.file_, nullptr);
    buffer_ = std::move(other.buffer_);
    bytes_written_ = other.bytes_written_;
  }
  return *this;
}

BufferedWriter::~BufferedWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

base::Status BufferedWriter::Flush() {
  if (file_ == nullptr)
    return base::FailedPrecondition(fmt::format("'{}' is closed", path_.string()));
  if (buffer_.empty()) return base::Status::Ok();
  if (std::fwrite(buffer_.data(), 1, buffer_.size(), file_) != buffer_.size()) {
    return base::IoError(
        fmt::format("cannot write '{}': {}", path_.string(), std::strerror(errno)));
  }
  bytes_written_ += buffer_.size();
  buffer_.clear();
  return base::Status::Ok();
}

base::Status BufferedWriter::Close() {
  SLUICE_RETURN_IF_ERROR(Flush());
  const int rc = std::fclose(std::exchange(file_, nullptr));
  if (rc != 0) {
    return base::IoError(
        fmt::format("cannot close '{}': {}", path_.string(), std::strerror(errno)));
  }
  return base::Status::Ok();
}

}  // namespace sluice::datagen
