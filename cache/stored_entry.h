#pragma once
// A stored response as a process holds it after reading it from a tier: the head, and the body as
// a range of the entry's open file (sent with sendfile) or bytes in memory (from memcached).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "cache_entry.pb.h"
#include "collage/brigade.h"

namespace collage::cache {

class FileTier;

struct StoredEntry {
  proto::CacheEntryHead head;
  std::uint64_t hash = 0;
  std::shared_ptr<const FileHandle> file;    // the entry's file, or null
  std::uint64_t body_offset = 0;             // in file
  std::shared_ptr<const std::string> bytes;  // the whole encoded entry, when held in memory
  std::string_view body;                     // into bytes
  FileTier* tier = nullptr;                  // where it lives; null for memcached
  std::uint64_t version = 0;                 // the tier's slot version when it was read
  std::uint64_t epoch = 0;

  std::uint64_t body_length() const { return head.body_length(); }
  // Appends the body to out, sharing the file or the bytes.
  void append_body(Brigade& out) const;
};

// Collects a body on its way to a tier, within a byte limit.
class EntryWriter {
 public:
  virtual ~EntryWriter() = default;
  // False when the entry cannot be kept (over the limit, a write failed): stop offering parts.
  virtual bool append(const Brigade& part) = 0;
  // Seals the entry (its head's body length set here); null when that failed.
  virtual std::shared_ptr<StoredEntry> commit() = 0;
};

// An entry kept in memory only (no file tier configured): the bytes memcached will hold.
std::unique_ptr<EntryWriter> make_buffer_writer(std::uint64_t hash, std::uint64_t limit,
                                                proto::CacheEntryHead head);

}  // namespace collage::cache
