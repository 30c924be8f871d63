#include "store/online_store.h"

#include "store/redis_store.h"
#include "store/redis_url.h"
#include "store/rocksdb_store.h"

namespace sluice::store {

base::Result<std::unique_ptr<OnlineStore>> OpenOnlineStore(const config::OnlineStoreSpec& spec,
                                                           const std::filesystem::path& project_dir,
                                                           bool read_only,
                                                           const StoreOptions& options) {
  const std::string context = "online store '" + spec.name + "'";
  switch (spec.type) {
    case config::OnlineStoreType::kRocksdb: {
      if (spec.path.empty()) {
        return base::InvalidArgument("the path is empty").WithContext(context);
      }
      std::filesystem::path path(spec.path);
      if (path.is_relative()) path = project_dir / path;
      auto store = OpenRocksDbStore(path.lexically_normal(), read_only, options);
      if (!store.ok()) return std::move(store).status().WithContext(context);
      return store;
    }
    case config::OnlineStoreType::kRedis: {
      if (!spec.url) {
        return base::InvalidArgument("a redis online store needs a url").WithContext(context);
      }
      auto endpoint = ParseRedisUrl(*spec.url);
      if (!endpoint.ok()) return std::move(endpoint).status().WithContext(context);
      auto store = OpenRedisStore(*endpoint, RedisAuthFromEnvironment(), read_only, options);
      if (!store.ok()) return std::move(store).status().WithContext(context);
      return store;
    }
  }
  return base::Internal("unknown online store type").WithContext(context);
}

}  // namespace sluice::store
