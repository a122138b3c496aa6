#pragma once
// The tier shared by many nodes: memcached servers (libmemcached, consistent hashing), each value
// an encoded entry (entry_codec.h). libmemcached blocks, so every call here runs on the blocking
// pool (Services::offload), with connect and poll timeouts bounding what a slow or dead server
// costs; a server that fails is left alone for a while. Never throws, never fails a request.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace collage::cache {

class MemcachedTier {
 public:
  MemcachedTier(std::vector<std::string> servers, std::chrono::milliseconds timeout,
                std::uint64_t max_value);
  std::uint64_t max_value() const { return max_value_; }

  // Blocking: call from the blocking pool.
  std::optional<std::string> get(std::uint64_t hash);
  void set(std::uint64_t hash, const std::string& value, std::int64_t ttl_seconds);
  void remove(std::uint64_t hash);
  // A named value (not a cache entry): stored unless present; returns what is there now.
  std::optional<std::string> add_or_get(const std::string& key, const std::string& value,
                                        std::int64_t ttl_seconds);

 private:
  struct Connection;
  Connection* connection();  // one per thread and process: libmemcached handles are not shared
  void failed(const char* what, const std::string& detail);

  std::string options_;
  std::chrono::milliseconds timeout_;
  std::uint64_t max_value_;
  std::atomic<std::int64_t> last_complaint_ms_{0};
};

}  // namespace collage::cache
