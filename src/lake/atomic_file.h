#pragma once

#include <filesystem>
#include <string_view>

#include "base/result.h"

namespace sluice::lake {

// Durable, all-or-nothing file operations: the building blocks of atomic publishing. After a
// crash at any point a reader sees the old content or the new one, never a torn mix.

// Writes `bytes` to a temporary file beside `path`, fsyncs it, renames it over `path` and
// fsyncs the folder.
base::Status WriteFileAtomic(const std::filesystem::path& path, std::string_view bytes);
// Flushes a file's or folder's data and metadata to disk.
base::Status SyncPath(const std::filesystem::path& path);
// rename(2) then fsync of the destination's folder; `to` must not exist if it is a folder.
base::Status RenameDurable(const std::filesystem::path& from, const std::filesystem::path& to);
// Reads a whole (small) file.
base::Result<std::string> ReadFile(const std::filesystem::path& path);

}  // namespace sluice::lake
