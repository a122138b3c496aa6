#pragma once
// A tier that keeps each entry as a file named by its hash in one directory: the memory tier (a
// directory on tmpfs, /dev/shm) and the disk tier (a directory on disk, kept across restarts).
// Files are written under a temporary name and renamed when complete, so a reader sees a whole
// entry or none; every process of the server shares the directory and its SharedIndex.

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "shared_index.h"
#include "stored_entry.h"

namespace collage::cache {

class FileTier {
 public:
  FileTier(std::string name, std::string directory, std::uint64_t max_bytes);

  const std::string& name() const { return name_; }
  const std::string& directory() const { return directory_; }
  // Creates the directory and maps the index on first use; false (logged once) when it cannot.
  // Until allow_create(), only a tier some process made already is opened: a configuration
  // that caches nowhere leaves no directory behind (in /dev/shm, for the memory tier).
  bool ready();
  void allow_create() { may_create_.store(true, std::memory_order_relaxed); }
  SharedIndex& index() { return *index_; }

  // The entry named hash, read and checked; null when absent. A damaged entry is removed.
  std::shared_ptr<StoredEntry> load(std::uint64_t hash);
  // Starts writing the entry named hash; null when the tier cannot take one now.
  std::unique_ptr<EntryWriter> begin(std::uint64_t hash, std::uint64_t limit,
                                     proto::CacheEntryHead head);
  // Takes a whole encoded entry (a copy from another tier).
  std::shared_ptr<StoredEntry> put(std::uint64_t hash, std::string_view encoded);
  bool remove(std::uint64_t hash);
  // Removes every entry whose primary key starts with prefix; returns how many.
  std::size_t remove_prefix(std::string_view prefix);

  // Called by a writer when an entry of `size` bytes replaced one of old_size.
  void account(std::uint64_t hash, std::int64_t size, std::int64_t old_size);

 private:
  std::string path_of(std::uint64_t hash) const;
  void evict();

  std::string name_;
  std::string directory_;
  std::uint64_t max_bytes_;
  std::once_flag opened_;
  std::atomic<bool> may_create_{false};
  std::atomic<bool> attempted_{false};  // the call_once above ran
  std::unique_ptr<SharedIndex> index_;
};

}  // namespace collage::cache
