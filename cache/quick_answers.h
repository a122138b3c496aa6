#pragma once
// The quick path (collage/cache.h): final responses that came whole from a cache entry, kept per
// generation by URL (and Vary variant), so the next request for them is answered by the front
// end before routing. Only what the full path would answer the same way is kept: no access
// checks at the location, no filter changed the body, and requests with conditional, range,
// Cache-Control, Pragma or Authorization headers always take the full path.

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "collage/cache.h"
#include "collage/middle_end.h"
#include "shared_index.h"
#include "stored_entry.h"

namespace collage::cache {

// Whether a request may be answered (or learnt from) on the quick path at all.
bool quick_eligible(const Request& request);

class QuickAnswers final : public QuickCache {
 public:
  bool answer(const Request& request, Entity& out) const override;
  // Offered by a provider when `final`, the response to ctx.request, is the fresh entry's
  // stored response unchanged.
  void remember(const RequestContext& ctx, const Entity& final, std::shared_ptr<StoredEntry> entry,
                SharedIndex* counts) const;

 private:
  struct Answer {
    Entity head;  // the final head, without Age and Cache-Status; no body
    std::shared_ptr<const std::string> content_type;
    std::vector<std::string> vary;
    std::string variant;
    std::shared_ptr<StoredEntry> entry;
    std::int64_t fresh_until = 0;   // seconds since the epoch
    SharedIndex* counts = nullptr;  // where the cache counts its hits
  };
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, std::shared_ptr<const Answer>> answers;
  };
  static constexpr std::size_t kShards = 16;
  static constexpr std::size_t kAnswersPerShard = 256;

  Shard& shard_for(const std::string& key) const;

  mutable std::array<Shard, kShards> shards_;
  mutable std::atomic<std::size_t> count_{0};
};

}  // namespace collage::cache
