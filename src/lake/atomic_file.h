#pragma once

#include <filesystem>
#include <string_view>

#include "base/result.h"

namespace sluice::lake {

// Durable, all-or-nothing file operations: the building blocks of atomic publishing. After a
// crash at any point a reader sees the old content or the new one, never a torn mix.

// Writes `bytes` to a temporary file beside `path`, fsyncs it, renames it over `path` and
// fsyncs the folder. `kill_point`, if not empty, names a kill point (base/kill_point.h) reached
// just before the rename.
base::Status WriteFileAtomic(const std::filesystem::path& path, std::string_view bytes,
                             std::string_view kill_point = {});
// Flushes a file's or folder's data and metadata to disk.
base::Status SyncPath(const std::filesystem::path& path);
// rename(2) then fsync of the destination's folder; `to` must not exist if it is a folder.
base::Status RenameDurable(const std::filesystem::path& from, const std::filesystem::path& to);
// Copies `from` to `to` the same way: into a hidden temporary beside `to`
// (".<name>.tmp-<pid>-<random>"), fsynced, renamed over `to`, folder fsynced. A reader of `to`
// sees the old file or the whole new one, never a part; a crash leaves at most the temporary,
// which RemoveAbandonedTemporaries sweeps. `kill_point`, if not empty, names a kill point
// (base/kill_point.h) reached in the middle of the copy.
base::Status CopyFileAtomic(const std::filesystem::path& from, const std::filesystem::path& to,
                            std::string_view kill_point = {});
// The suffix of every temporary file written beside its final name: ".tmp-<pid>-<random>", so
// a sweep can tell a running process's temporary from one a dead process left.
std::string TemporarySuffix();
// Whether `path` is a temporary (see TemporarySuffix) whose process no longer runs (or of an
// older naming without the process id).
bool IsAbandonedTemporary(const std::filesystem::path& path);
// Removes the abandoned temporaries directly in `dir`.
void RemoveAbandonedTemporaries(const std::filesystem::path& dir);
// Reads a whole (small) file.
base::Result<std::string> ReadFile(const std::filesystem::path& path);

}  // namespace sluice::lake
