#include "entry_codec.h"

#include <cstring>

#include <zlib.h>

namespace collage::cache {
namespace {

constexpr char kMagic[4] = {'C', 'L', 'G', 'C'};

void put32(char* at, std::uint32_t value) {
  for (int i = 0; i < 4; ++i) {
    at[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  }
}

void put64(char* at, std::uint64_t value) {
  put32(at, static_cast<std::uint32_t>(value));
  put32(at + 4, static_cast<std::uint32_t>(value >> 32));
}

std::uint32_t get32(const char* at) {
  std::uint32_t value = 0;
  for (int i = 3; i >= 0; --i) {
    value = (value << 8) | static_cast<unsigned char>(at[i]);
  }
  return value;
}

std::uint64_t get64(const char* at) {
  return get32(at) | (static_cast<std::uint64_t>(get32(at + 4)) << 32);
}

}  // namespace

std::uint32_t crc32_update(std::uint32_t crc, std::string_view bytes) {
  while (!bytes.empty()) {
    const auto chunk = static_cast<uInt>(std::min<std::size_t>(bytes.size(), 1U << 30));
    crc = static_cast<std::uint32_t>(
        ::crc32(crc, reinterpret_cast<const Bytef*>(bytes.data()), chunk));
    bytes.remove_prefix(chunk);
  }
  return crc;
}

std::string encode_head(const proto::CacheEntryHead& head, std::uint64_t body_length,
                        std::uint32_t body_crc) {
  std::string out(kPrefixSize, '\0');
  head.AppendToString(&out);
  const std::string_view head_bytes = std::string_view(out).substr(kPrefixSize);
  std::memcpy(out.data(), kMagic, 4);
  put32(out.data() + 4, kFormatVersion);
  put32(out.data() + 8, static_cast<std::uint32_t>(head_bytes.size()));
  put32(out.data() + 12, crc32_update(0, head_bytes));
  put64(out.data() + 16, body_length);
  put32(out.data() + 24, body_crc);
  return out;
}

bool decode_prefix(std::string_view bytes, EntryPrefix& prefix) {
  if (bytes.size() < kPrefixSize || std::memcmp(bytes.data(), kMagic, 4) != 0 ||
      get32(bytes.data() + 4) != kFormatVersion || get32(bytes.data() + 28) != 0) {
    return false;
  }
  prefix.head_length = get32(bytes.data() + 8);
  prefix.head_crc = get32(bytes.data() + 12);
  prefix.body_length = get64(bytes.data() + 16);
  prefix.body_crc = get32(bytes.data() + 24);
  return prefix.head_length <= kMaxHeadSize;
}

bool decode_head(std::string_view head_bytes, const EntryPrefix& prefix,
                 proto::CacheEntryHead& head) {
  return head_bytes.size() == prefix.head_length &&
         crc32_update(0, head_bytes) == prefix.head_crc &&
         head.ParseFromArray(head_bytes.data(), static_cast<int>(head_bytes.size())) &&
         head.body_length() == prefix.body_length;
}

bool decode_entry(std::string_view bytes, proto::CacheEntryHead& head, std::string_view& body) {
  EntryPrefix prefix;
  if (!decode_prefix(bytes, prefix) || bytes.size() - kPrefixSize < prefix.head_length) {
    return false;
  }
  const std::string_view rest = bytes.substr(kPrefixSize);
  if (rest.size() - prefix.head_length != prefix.body_length ||
      !decode_head(rest.substr(0, prefix.head_length), prefix, head)) {
    return false;
  }
  body = rest.substr(prefix.head_length);
  return crc32_update(0, body) == prefix.body_crc;
}

}  // namespace collage::cache
