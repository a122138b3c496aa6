#pragma once
// The tiers a location's entries live in, shared by every location that names the same
// settings: the memory tier (files on tmpfs), the disk tier and memcached. Reads go memory → disk
// → memcached (a memcached hit is copied into the memory tier); writes go to the first local tier
// and are copied to the others. Each process also keeps the entries it opened (their file open,
// their head parsed), checked against the tier's shared slot version before every use.

#include <array>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "collage/asio.h"
#include "collage/services.h"
#include "file_tier.h"
#include "memcached_tier.h"

namespace collage::cache {

struct TierSettings {
  std::string memory_directory;
  std::uint64_t memory_size = 0;
  std::string disk_directory;
  std::uint64_t disk_size = 0;
  std::vector<std::string> memcached_servers;
  std::chrono::milliseconds memcached_timeout{200};
  std::uint64_t memcached_max_entry = 1024 * 1024;

  bool operator==(const TierSettings&) const = default;
};

// Which tiers a location uses (CacheTiers).
struct TierChoice {
  bool memory = true;
  bool disk = false;
  bool memcached = false;
};

class Tiers {
 public:
  explicit Tiers(TierSettings settings);
  // One Tiers per distinct settings per process, kept while some generation uses it.
  static std::shared_ptr<Tiers> shared(const TierSettings& settings);
  // Every Tiers this process has made that is still in use.
  static std::vector<std::shared_ptr<Tiers>> all();
  const TierSettings& settings() const { return settings_; }

  // Some location caches into these tiers: they may be created on disk (file_tier.h).
  void enable();
  FileTier* memory() { return memory_.get(); }
  FileTier* disk() { return disk_.get(); }
  MemcachedTier* memcached() { return memcached_.get(); }
  // Where fill claims and counters live: the memory tier's index when it can be opened.
  SharedIndex* coordination();

  Task<std::shared_ptr<StoredEntry>> find(std::uint64_t hash, TierChoice choice,
                                          Services& services);
  // A writer for a new entry in the first local tier chosen (or memory only, for memcached).
  std::unique_ptr<EntryWriter> begin(std::uint64_t hash, std::uint64_t limit,
                                     proto::CacheEntryHead head, TierChoice choice);
  // Copies a committed entry to the other tiers chosen.
  Task<void> propagate(std::shared_ptr<StoredEntry> entry, TierChoice choice, Services& services);
  Task<void> remove(std::uint64_t hash, TierChoice choice, Services& services);
  std::size_t remove_prefix(std::string_view prefix, TierChoice choice);

 private:
  std::shared_ptr<StoredEntry> open_entry(std::uint64_t hash, TierChoice choice);
  void remember(const std::shared_ptr<StoredEntry>& entry);
  void forget(std::uint64_t hash);

  TierSettings settings_;
  std::unique_ptr<FileTier> memory_;
  std::unique_ptr<FileTier> disk_;
  std::unique_ptr<MemcachedTier> memcached_;

  // The entries this process has open, sharded so a hit takes only its shard's lock.
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::uint64_t, std::shared_ptr<StoredEntry>> entries;
  };
  static constexpr std::size_t kShards = 16;
  static constexpr std::size_t kEntriesPerShard = 512;
  std::array<Shard, kShards> open_;
};

// The whole encoded entry (file contents or the bytes held), for copying to another tier.
bool encoded_bytes(const StoredEntry& entry, std::string& out);

}  // namespace collage::cache
