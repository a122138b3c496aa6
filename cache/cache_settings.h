#pragma once
// The cache's directives as one location sees them, and what they turn into.

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "cache_key.h"
#include "freshness.h"
#include "tiers.h"

namespace collage::cache {

struct CacheSettings {
  bool enabled = false;
  std::string point = "store";
  std::vector<std::string> tiers;
  std::string memory_directory;
  std::uint64_t memory_size = 0;
  std::string disk_directory;
  std::uint64_t disk_size = 0;
  std::vector<std::string> memcached_servers;
  std::chrono::milliseconds memcached_timeout{200};
  std::uint64_t memcached_max_entry = 0;
  std::uint64_t max_entry_size = 0;
  std::vector<std::string> valid;  // CacheValid words
  std::chrono::milliseconds heuristic_max{0};
  bool store_set_cookie = false;
  std::vector<std::string> key;
  std::vector<std::string> bypass;
  std::chrono::milliseconds lock_timeout{0};
  bool purge = false;
};

// CacheValid "200 301 10m 404 1m any 5s": statuses (or "any") followed by how long.
struct StatusTtl {
  int status = 0;  // 0: any
  std::int64_t seconds = 0;
};

bool parse_valid(const std::vector<std::string>& words, std::vector<StatusTtl>& out,
                 std::string& error);
std::int64_t ttl_for_status(const void* table, int status);

}  // namespace collage::cache
