#pragma once
// The cache provider of one location: RFC 9111 on each request (cache_provider.cpp), the tee
// that keeps a body as it streams (tee_stream.cpp), PURGE and invalidation.

#include <memory>
#include <vector>

#include "cache_settings.h"
#include "collage/cache.h"
#include "collage/middle_end.h"

namespace collage::cache {

struct ProviderConfig {
  bool enabled = false;  // off: the provider only invalidates (an upload elsewhere, a DELETE)
  CachePoint point = CachePoint::store;
  TierChoice choice;
  std::shared_ptr<Tiers> tiers;
  KeySpec key;
  std::vector<StatusTtl> valid;
  StoragePolicy policy;  // default_ttl_context points at `valid` (set by the provider)
  std::uint64_t max_entry_size = 0;
  std::vector<std::string> bypass;
  std::chrono::milliseconds lock_timeout{5000};
  bool purge = false;
};

std::unique_ptr<CacheProvider> make_provider(ProviderConfig config);

}  // namespace collage::cache
