#include "memcached_tier.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>

#include <fmt/format.h>
#include <libmemcached/memcached.h>
#include "collage/log.h"
#include "shared_index.h"

namespace collage::cache {

struct MemcachedTier::Connection {
  memcached_st* handle = nullptr;
  pid_t pid = 0;
  ~Connection() {
    if (handle != nullptr) {
      memcached_free(handle);
    }
  }
};

namespace {

std::string key_of(std::uint64_t hash) {
  return fmt::format("collage:{:016x}", hash);
}

}  // namespace

MemcachedTier::MemcachedTier(std::vector<std::string> servers, std::chrono::milliseconds timeout,
                             std::uint64_t max_value)
    : timeout_(timeout), max_value_(max_value) {
  for (const std::string& server : servers) {
    options_ += "--SERVER=" + server + " ";
  }
  // Ketama: adding or losing a server moves only its share of the keys.
  options_ += "--DISTRIBUTION=consistent --BINARY-PROTOCOL --TCP-NODELAY";
}

MemcachedTier::Connection* MemcachedTier::connection() {
  // Keyed by the server list, not by this object: a tier made after a reload may reuse a freed
  // one's address, and must not inherit a handle to other servers.
  thread_local std::map<std::string, std::unique_ptr<Connection>> connections;
  std::unique_ptr<Connection>& connection = connections[options_];
  if (connection == nullptr || connection->pid != ::getpid()) {
    connection = std::make_unique<Connection>();
    connection->pid = ::getpid();
    connection->handle = memcached(options_.c_str(), options_.size());
    if (connection->handle == nullptr) {
      failed("configure", options_);
      return nullptr;
    }
    const auto ms = static_cast<std::uint64_t>(timeout_.count());
    memcached_behavior_set(connection->handle, MEMCACHED_BEHAVIOR_CONNECT_TIMEOUT, ms);
    memcached_behavior_set(connection->handle, MEMCACHED_BEHAVIOR_POLL_TIMEOUT, ms);
    memcached_behavior_set(connection->handle, MEMCACHED_BEHAVIOR_SND_TIMEOUT, ms * 1000);
    memcached_behavior_set(connection->handle, MEMCACHED_BEHAVIOR_RCV_TIMEOUT, ms * 1000);
    // A server that failed once is skipped for 5 s instead of costing a timeout per request.
    memcached_behavior_set(connection->handle, MEMCACHED_BEHAVIOR_SERVER_FAILURE_LIMIT, 1);
    memcached_behavior_set(connection->handle, MEMCACHED_BEHAVIOR_RETRY_TIMEOUT, 5);
  }
  return connection.get();
}

void MemcachedTier::failed(const char* what, const std::string& detail) {
  // One line every 10 s at most: a dead server must not flood the log.
  const std::int64_t now = now_ms();
  std::int64_t last = last_complaint_ms_.load();
  if (now - last >= 10'000 && last_complaint_ms_.compare_exchange_strong(last, now)) {
    COLLAGE_LOG(LogLevel::warn, "COL-CACHE-0004",
                "the memcached tier could not {}: {} (requests go on without it)", what, detail);
  }
}

std::optional<std::string> MemcachedTier::get(std::uint64_t hash) {
  Connection* c = connection();
  if (c == nullptr) {
    return std::nullopt;
  }
  const std::string key = key_of(hash);
  std::size_t length = 0;
  std::uint32_t flags = 0;
  memcached_return_t rc = MEMCACHED_SUCCESS;
  char* value = memcached_get(c->handle, key.data(), key.size(), &length, &flags, &rc);
  if (value == nullptr) {
    if (rc != MEMCACHED_NOTFOUND) {
      failed("read an entry", memcached_strerror(c->handle, rc));
    }
    return std::nullopt;
  }
  std::string out(value, length);
  std::free(value);
  return out;
}

void MemcachedTier::set(std::uint64_t hash, const std::string& value, std::int64_t ttl_seconds) {
  Connection* c = connection();
  if (c == nullptr || value.size() > max_value_) {
    return;
  }
  const std::string key = key_of(hash);
  // memcached reads expirations past 30 days as a point in time.
  const auto ttl = static_cast<time_t>(std::clamp<std::int64_t>(ttl_seconds, 1, 30 * 86400));
  const memcached_return_t rc =
      memcached_set(c->handle, key.data(), key.size(), value.data(), value.size(), ttl, 0);
  if (rc != MEMCACHED_SUCCESS) {
    failed("store an entry", memcached_strerror(c->handle, rc));
  }
}

std::optional<std::string> MemcachedTier::add_or_get(const std::string& key,
                                                     const std::string& value,
                                                     std::int64_t ttl_seconds) {
  Connection* c = connection();
  if (c == nullptr) {
    return std::nullopt;
  }
  const auto ttl = static_cast<time_t>(std::clamp<std::int64_t>(ttl_seconds, 1, 30 * 86400));
  const memcached_return_t added =
      memcached_add(c->handle, key.data(), key.size(), value.data(), value.size(), ttl, 0);
  if (added == MEMCACHED_SUCCESS) {
    return value;
  }
  if (added != MEMCACHED_NOTSTORED && added != MEMCACHED_DATA_EXISTS) {
    failed("store a shared value", memcached_strerror(c->handle, added));
    return std::nullopt;
  }
  std::size_t length = 0;
  std::uint32_t flags = 0;
  memcached_return_t rc = MEMCACHED_SUCCESS;
  char* there = memcached_get(c->handle, key.data(), key.size(), &length, &flags, &rc);
  if (there == nullptr) {
    failed("read a shared value", memcached_strerror(c->handle, rc));
    return std::nullopt;
  }
  std::string out(there, length);
  std::free(there);
  return out;
}

void MemcachedTier::remove(std::uint64_t hash) {
  Connection* c = connection();
  if (c == nullptr) {
    return;
  }
  const std::string key = key_of(hash);
  const memcached_return_t rc = memcached_delete(c->handle, key.data(), key.size(), 0);
  if (rc != MEMCACHED_SUCCESS && rc != MEMCACHED_NOTFOUND) {
    failed("remove an entry", memcached_strerror(c->handle, rc));
  }
}

}  // namespace collage::cache
