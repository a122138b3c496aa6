#include "tiers.h"

#include <unistd.h>

#include "entry_codec.h"

namespace collage::cache {

Tiers::Tiers(TierSettings settings) : settings_(std::move(settings)) {
  if (settings_.memory_size > 0 && !settings_.memory_directory.empty()) {
    memory_ =
        std::make_unique<FileTier>("memory", settings_.memory_directory, settings_.memory_size);
  }
  if (settings_.disk_size > 0 && !settings_.disk_directory.empty()) {
    disk_ = std::make_unique<FileTier>("disk", settings_.disk_directory, settings_.disk_size);
  }
  if (!settings_.memcached_servers.empty()) {
    memcached_ = std::make_unique<MemcachedTier>(
        settings_.memcached_servers, settings_.memcached_timeout, settings_.memcached_max_entry);
  }
}

namespace {
std::mutex tiers_mutex;
std::vector<std::weak_ptr<Tiers>> tiers_made;
}  // namespace

std::vector<std::shared_ptr<Tiers>> Tiers::all() {
  const std::lock_guard lock(tiers_mutex);
  std::vector<std::shared_ptr<Tiers>> live;
  for (const std::weak_ptr<Tiers>& weak : tiers_made) {
    if (std::shared_ptr<Tiers> tiers = weak.lock()) {
      live.push_back(std::move(tiers));
    }
  }
  return live;
}

std::shared_ptr<Tiers> Tiers::shared(const TierSettings& settings) {
  auto& all = tiers_made;
  const std::lock_guard lock(tiers_mutex);
  for (const std::weak_ptr<Tiers>& weak : all) {
    if (std::shared_ptr<Tiers> tiers = weak.lock(); tiers && tiers->settings_ == settings) {
      return tiers;
    }
  }
  auto tiers = std::make_shared<Tiers>(settings);
  std::erase_if(all, [](const std::weak_ptr<Tiers>& weak) { return weak.expired(); });
  all.push_back(tiers);
  return tiers;
}

void Tiers::enable() {
  for (FileTier* tier : {memory_.get(), disk_.get()}) {
    if (tier != nullptr) {
      tier->allow_create();
    }
  }
}

SharedIndex* Tiers::coordination() {
  if (memory_ != nullptr && memory_->ready()) {
    return &memory_->index();
  }
  if (disk_ != nullptr && disk_->ready()) {
    return &disk_->index();
  }
  return nullptr;
}

void Tiers::remember(const std::shared_ptr<StoredEntry>& entry) {
  Shard& shard = open_[entry->hash % kShards];
  const std::lock_guard lock(shard.mutex);
  if (shard.entries.size() >= kEntriesPerShard) {
    shard.entries.erase(shard.entries.begin());  // bounded: an arbitrary one makes room
  }
  shard.entries[entry->hash] = entry;
}

void Tiers::forget(std::uint64_t hash) {
  Shard& shard = open_[hash % kShards];
  const std::lock_guard lock(shard.mutex);
  shard.entries.erase(hash);
}

std::shared_ptr<StoredEntry> Tiers::open_entry(std::uint64_t hash, TierChoice choice) {
  {
    Shard& shard = open_[hash % kShards];
    const std::lock_guard lock(shard.mutex);
    if (const auto it = shard.entries.find(hash); it != shard.entries.end()) {
      const std::shared_ptr<StoredEntry>& entry = it->second;
      FileTier* tier = entry->tier;
      const bool chosen =
          (tier == memory_.get() && choice.memory) || (tier == disk_.get() && choice.disk);
      if (chosen && tier->index().version(hash) == entry->version &&
          tier->index().epoch() == entry->epoch) {
        tier->index().touch(hash);
        tier->index().count(Counter::found);
        return entry;
      }
      shard.entries.erase(it);  // replaced or purged by some process since it was opened
    }
  }
  for (FileTier* tier :
       {choice.memory ? memory_.get() : nullptr, choice.disk ? disk_.get() : nullptr}) {
    if (tier != nullptr && tier->ready()) {
      if (std::shared_ptr<StoredEntry> entry = tier->load(hash)) {
        tier->index().touch(hash);
        tier->index().count(Counter::found);
        remember(entry);
        return entry;
      }
      tier->index().count(Counter::missed);
    }
  }
  return nullptr;
}

Task<std::shared_ptr<StoredEntry>> Tiers::find(std::uint64_t hash, TierChoice choice,
                                               Services& services) {
  if (std::shared_ptr<StoredEntry> entry = open_entry(hash, choice)) {
    co_return entry;
  }
  if (!choice.memcached || memcached_ == nullptr) {
    co_return nullptr;
  }
  MemcachedTier* memcached = memcached_.get();
  auto fetch = [memcached, hash] { return memcached->get(hash); };
  std::optional<std::string> value = co_await services.offload(fetch);
  SharedIndex* counts = coordination();
  if (counts != nullptr) {
    counts->count(value ? Counter::memcached_found : Counter::memcached_missed);
  }
  if (!value) {
    co_return nullptr;
  }
  auto entry = std::make_shared<StoredEntry>();
  std::string_view body;
  if (!decode_entry(*value, entry->head, body)) {
    COLLAGE_LOG(LogLevel::warn, "COL-CACHE-0002",
                "the memcached tier dropped entry {:016x}: damaged or of another format", hash);
    auto drop = [memcached, hash] { memcached->remove(hash); };
    co_await services.offload(drop);
    co_return nullptr;
  }
  // Kept in the memory tier from now on, so the next hit is local and goes out with sendfile.
  if (memory_ != nullptr && choice.memory && memory_->ready()) {
    if (std::shared_ptr<StoredEntry> local = memory_->put(hash, *value)) {
      remember(local);
      co_return local;
    }
  }
  entry->hash = hash;
  auto bytes = std::make_shared<const std::string>(std::move(*value));
  entry->body = std::string_view(*bytes).substr(bytes->size() - body.size());
  entry->bytes = std::move(bytes);
  co_return entry;
}

std::unique_ptr<EntryWriter> Tiers::begin(std::uint64_t hash, std::uint64_t limit,
                                          proto::CacheEntryHead head, TierChoice choice) {
  for (FileTier* tier :
       {choice.memory ? memory_.get() : nullptr, choice.disk ? disk_.get() : nullptr}) {
    if (tier != nullptr && tier->ready()) {
      return tier->begin(hash, limit, std::move(head));
    }
  }
  if (choice.memcached && memcached_ != nullptr) {
    return make_buffer_writer(hash, std::min(limit, memcached_->max_value()), std::move(head));
  }
  return nullptr;
}

bool encoded_bytes(const StoredEntry& entry, std::string& out) {
  if (entry.bytes != nullptr) {
    out = *entry.bytes;
    return true;
  }
  const std::uint64_t length = entry.body_offset + entry.body_length();
  out.resize(length);
  std::size_t done = 0;
  while (done < length) {
    const ssize_t n =
        ::pread(entry.file->fd(), out.data() + done, length - done, static_cast<off_t>(done));
    if (n <= 0) {
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

Task<void> Tiers::propagate(std::shared_ptr<StoredEntry> entry, TierChoice choice,
                            Services& services) {
  if (entry->tier != nullptr) {
    remember(entry);
  }
  const bool to_disk =
      choice.disk && disk_ != nullptr && entry->tier != disk_.get() && disk_->ready();
  const bool to_memcached = choice.memcached && memcached_ != nullptr &&
                            entry->body_offset + entry->body_length() <= memcached_->max_value();
  if (!to_disk && !to_memcached) {
    co_return;
  }
  auto bytes = std::make_shared<std::string>();
  if (!encoded_bytes(*entry, *bytes)) {
    co_return;
  }
  if (to_disk) {
    disk_->put(entry->hash, *bytes);
  }
  if (to_memcached) {
    const proto::CacheEntryHead& head = entry->head;
    // Kept as long as it could be of use: fresh, stale but allowed, or worth revalidating.
    const std::int64_t ttl =
        head.freshness_lifetime() + head.stale_while_revalidate() + head.stale_if_error() + 3600;
    MemcachedTier* memcached = memcached_.get();
    auto send = [memcached, hash = entry->hash, bytes, ttl] { memcached->set(hash, *bytes, ttl); };
    co_await services.offload(send);
  }
}

Task<void> Tiers::remove(std::uint64_t hash, TierChoice choice, Services& services) {
  forget(hash);
  for (FileTier* tier : {memory_.get(), disk_.get()}) {
    if (tier != nullptr && tier->ready()) {
      tier->remove(hash);
    }
  }
  if (choice.memcached && memcached_ != nullptr) {
    MemcachedTier* memcached = memcached_.get();
    auto drop = [memcached, hash] { memcached->remove(hash); };
    co_await services.offload(drop);
  }
}

std::size_t Tiers::remove_prefix(std::string_view prefix, TierChoice /*choice*/) {
  std::size_t removed = 0;
  for (FileTier* tier : {memory_.get(), disk_.get()}) {
    if (tier != nullptr && tier->ready()) {
      removed += tier->remove_prefix(prefix);
    }
  }
  return removed;
}

}  // namespace collage::cache
