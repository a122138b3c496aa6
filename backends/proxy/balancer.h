#pragma once
// The upstream servers of one proxied location and how a request picks one: round robin by
// weight, least connections, or a hash of a request key (rendezvous hashing, so adding or losing
// a server moves only its share). Passive health: a server that fails ProxyMaxFails times in a
// row is left out for ProxyFailTimeout; when every server is out, all are tried again. The
// counts are per child process.

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "upstream_socket.h"

namespace collage::proxy {

struct UpstreamServer {
  gateway::UpstreamAddress address;
  std::string authority;  // host:port as a Host field names it
  int weight = 1;
  std::shared_ptr<gateway::ConnectionPool> pool;
  std::atomic<int> active{0};
  std::atomic<int> failures{0};
  std::atomic<std::int64_t> down_until_ms{0};
  // Active health checks (health_check.cpp, one coroutine per process touches these).
  int health_failures = 0;
  int health_passes = 0;
  bool checked_down = false;
};

enum class Balance : std::uint8_t { round_robin, least_connections, hash };

class Balancer {
 public:
  Balancer(std::vector<std::unique_ptr<UpstreamServer>> servers, Balance balance, int max_fails,
           std::chrono::milliseconds fail_timeout);
  std::size_t size() const { return servers_.size(); }
  std::vector<UpstreamServer*> servers() const {
    std::vector<UpstreamServer*> all;
    for (const auto& server : servers_) {
      all.push_back(server.get());
    }
    return all;
  }
  std::atomic<pid_t> health_checked_by{0};  // the process whose loop runs the active checks
  // The servers to try for a request, best first (each at most once). `key` for Balance::hash.
  std::vector<UpstreamServer*> order(std::string_view key);
  // What a request learnt about a server.
  void succeeded(UpstreamServer& server);
  void failed(UpstreamServer& server, const std::string& why);

 private:
  bool up(const UpstreamServer& server, std::int64_t now) const;

  std::vector<std::unique_ptr<UpstreamServer>> servers_;
  std::vector<UpstreamServer*> wheel_;  // each server `weight` times, interleaved
  std::atomic<std::uint64_t> next_{0};
  Balance balance_;
  int max_fails_;
  std::chrono::milliseconds fail_timeout_;
};

std::int64_t now_ms();

}  // namespace collage::proxy
