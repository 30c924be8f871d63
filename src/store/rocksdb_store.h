#pragma once

#include <filesystem>
#include <memory>

#include "base/result.h"
#include "store/online_store.h"

namespace sluice::store {

// The embedded backend: one RocksDB database in the directory `path` (absolute), holding every
// view under the key layout of key_layout.h. One process may write (RocksDB's LOCK file; a
// second writer gets a retryable error); any number of read-only handles follow it as RocksDB
// secondary instances (see README.md, "Reading while a materialization writes").
base::Result<std::unique_ptr<OnlineStore>> OpenRocksDbStore(const std::filesystem::path& path,
                                                            bool read_only,
                                                            const StoreOptions& options);

}  // namespace sluice::store
