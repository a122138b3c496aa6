#pragma once
// Small values every node of a site must agree on (TLS session-ticket keys), kept in the shared
// cache tier: the cache module provides the store when memcached servers are configured. Calls
// block for at most the tier's timeout; callers make them rarely (once per key rotation).

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace collage {

class SharedValues {
 public:
  virtual ~SharedValues() = default;
  // Stores value under name unless a value is there already, and returns the value that is
  // there now (ours, or the one another node stored first); nullopt when the store cannot be
  // reached.
  virtual std::optional<std::string> add_or_get(std::string_view name, std::string_view value,
                                                std::int64_t ttl_seconds) = 0;
};

// Process-wide; set by the module that provides the store, read by those that need it.
void set_shared_values(std::shared_ptr<SharedValues> values);
std::shared_ptr<SharedValues> shared_values();

}  // namespace collage
