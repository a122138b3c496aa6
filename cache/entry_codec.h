#pragma once
// The bytes of a stored response, the same in every tier: a fixed 32-byte prefix (magic, format
// version, lengths and CRC-32s), the head as a Protocol Buffers message
// (framework/proto/cache_entry.proto), then the body. Entries of another format version, or
// whose checksums do not match, are refused, never misread.

#include <cstdint>
#include <string>
#include <string_view>

#include "cache_entry.pb.h"

namespace collage::cache {

inline constexpr std::uint32_t kFormatVersion = 1;
inline constexpr std::size_t kPrefixSize = 32;
inline constexpr std::uint32_t kMaxHeadSize = 256 * 1024;

struct EntryPrefix {
  std::uint32_t head_length = 0;
  std::uint32_t head_crc = 0;
  std::uint64_t body_length = 0;
  std::uint32_t body_crc = 0;
};

std::uint32_t crc32_update(std::uint32_t crc, std::string_view bytes);

// The prefix and the head, ready to write before a body of that length and checksum.
std::string encode_head(const proto::CacheEntryHead& head, std::uint64_t body_length,
                        std::uint32_t body_crc);

// Reads the prefix from the first kPrefixSize bytes; false when it is not one of ours.
bool decode_prefix(std::string_view bytes, EntryPrefix& prefix);
// Parses the head that follows the prefix (its CRC checked); false when it is damaged.
bool decode_head(std::string_view head_bytes, const EntryPrefix& prefix,
                 proto::CacheEntryHead& head);

// A whole entry in memory (memcached's values): prefix, head and body, every checksum checked.
// On success `body` points into `bytes`.
bool decode_entry(std::string_view bytes, proto::CacheEntryHead& head, std::string_view& body);

}  // namespace collage::cache
