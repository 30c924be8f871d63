#pragma once

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <string_view>

#include "base/result.h"

namespace sluice::datagen {

// Appends bytes to a new file through one large in-memory buffer, so writing millions of small
// rows costs a syscall per megabyte, not per row. Errors surface from Flush/Close as kIoError
// naming the file. Callers format straight into buffer() to avoid temporary strings.
class BufferedWriter {
 public:
  static base::Result<BufferedWriter> Create(const std::filesystem::path& path);

  BufferedWriter(BufferedWriter&& other) noexcept;
  BufferedWriter& operator=(BufferedWriter&& other) noexcept;
  BufferedWriter(const BufferedWriter&) = delete;
  BufferedWriter& operator=(const BufferedWriter&) = delete;
  ~BufferedWriter();

  std::string& buffer() { return buffer_; }
  void Append(std::string_view text) { buffer_.append(text); }
  // Writes the buffer out once it holds at least the flush threshold.
  base::Status MaybeFlush() { return buffer_.size() >= kFlushBytes ? Flush() : base::Status::Ok(); }
  base::Status Flush();
  // Flushes and closes; the writer is unusable afterwards.
  base::Status Close();
  // Bytes handed to the OS so far.
  std::uint64_t bytes_written() const { return bytes_written_; }

 private:
  static constexpr size_t kFlushBytes = size_t{1} << 20;
  BufferedWriter(std::filesystem::path path, std::FILE* file);

  std::filesystem::path path_;
  std::FILE* file_ = nullptr;
  std::string buffer_;
  std::uint64_t bytes_written_ = 0;
};

}  // namespace sluice::datagen
