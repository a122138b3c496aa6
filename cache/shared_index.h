#pragma once
// A tier's shared state, in a small file every process of the server maps (MAP_SHARED), so the
// children of every MPM and every generation see one cache: the bytes stored, a version per slot
// of the hash space (a process's open entries are checked against it, so an entry replaced or
// purged by a sibling is never served from a stale handle), when each slot was last used (for
// eviction), the fill claims that make concurrent misses wait for one store call, and counters.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace collage::cache {

// Request outcomes (hits, misses, stale) are counted in the coordinating tier's index; found,
// missed, stores, evictions and errors in each tier's own; memcached's lookups in the
// coordinating one.
enum class Counter : std::uint8_t {
  hits,
  misses,
  stale,
  stores,
  evictions,
  errors,
  found,
  missed,
  memcached_found,
  memcached_missed,
  count,
};

class SharedIndex {
 public:
  // Maps (creating it if needed) the index file; null with `error` set on failure.
  static std::unique_ptr<SharedIndex> open(const std::string& path, std::string& error);
  ~SharedIndex();
  SharedIndex(const SharedIndex&) = delete;
  SharedIndex& operator=(const SharedIndex&) = delete;

  std::uint64_t version(std::uint64_t hash) const;
  void bump(std::uint64_t hash);  // the entry at hash changed or went away
  std::uint64_t epoch() const;    // bumped by a purge of many entries at once
  void bump_epoch();

  void touch(std::uint64_t hash);
  std::uint64_t last_used(std::uint64_t hash) const;

  // Claims the right to fill hash for `hold_ms` (a store call under way); false when another
  // process or request holds a claim that has not run out.
  bool claim_fill(std::uint64_t hash, std::int64_t hold_ms, std::int64_t& token);
  void release_fill(std::uint64_t hash, std::int64_t token);
  bool fill_pending(std::uint64_t hash) const;

  std::int64_t add_bytes(std::int64_t delta);  // returns the new total
  void set_bytes(std::int64_t total);
  std::int64_t bytes() const;
  bool begin_eviction();
  void end_eviction();

  void count(Counter counter, std::uint64_t n = 1);
  std::uint64_t counter(Counter counter) const;

 private:
  struct Header;
  struct Slot;
  SharedIndex(void* memory, std::size_t length);
  Slot& slot(std::uint64_t hash) const;

  void* memory_;
  std::size_t length_;
  Header* header_;
  Slot* slots_;
};

std::int64_t now_ms();

}  // namespace collage::cache
