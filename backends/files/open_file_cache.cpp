#include "open_file_cache.h"

#include <atomic>
#include <unordered_map>

#include "collage/scoreboard.h"

namespace collage::files {
namespace {

using Clock = std::chrono::steady_clock;

// Bounds what one thread keeps open; past it the cache starts over (cheap, and rare).
constexpr std::size_t kMaxEntries = 1024;

// Writes counted server-wide (in the scoreboard, which every child shares) when the server runs
// one, else in this process.
std::atomic<std::uint64_t>& write_count() {
  if (Scoreboard* board = running_scoreboard()) {
    static std::atomic<std::uint64_t>* shared = board->shared_counter("files.writes");
    if (shared != nullptr) {
      return *shared;
    }
  }
  static std::atomic<std::uint64_t> local{0};
  return local;
}

struct Entry {
  OpenFile open;
  Clock::time_point opened;
};

struct ThreadCache {
  std::unordered_map<std::string, Entry> entries;
  std::uint64_t writes_seen = 0;
  std::string key;  // scratch, so a lookup does not allocate
};

ThreadCache& thread_cache() {
  thread_local ThreadCache cache;
  return cache;
}

void make_key(const void* store, std::string_view relative, std::string& key) {
  key.assign(reinterpret_cast<const char*>(&store), sizeof store);
  key.append(relative);
}

}  // namespace

const OpenFile* cached_open_file(const void* store, std::string_view relative,
                                 std::chrono::milliseconds valid) {
  ThreadCache& cache = thread_cache();
  const std::uint64_t writes = write_count().load(std::memory_order_acquire);
  if (cache.writes_seen != writes) {
    cache.entries.clear();
    cache.writes_seen = writes;
    return nullptr;
  }
  make_key(store, relative, cache.key);
  auto it = cache.entries.find(cache.key);
  if (it == cache.entries.end()) {
    return nullptr;
  }
  if (Clock::now() - it->second.opened > valid) {
    cache.entries.erase(it);
    return nullptr;
  }
  return &it->second.open;
}

void cache_open_file(const void* store, std::string_view relative, OpenFile file) {
  ThreadCache& cache = thread_cache();
  if (cache.entries.size() >= kMaxEntries) {
    cache.entries.clear();
  }
  make_key(store, relative, cache.key);
  cache.entries.insert_or_assign(cache.key, Entry{std::move(file), Clock::now()});
}

void invalidate_open_files() {
  write_count().fetch_add(1, std::memory_order_acq_rel);
}

}  // namespace collage::files
