#include "balancer.h"

#include <unistd.h>

#include <algorithm>

#include "collage/log.h"

namespace collage::proxy {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

namespace {

std::uint64_t mix(std::string_view key, std::string_view server) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const std::string_view part : {key, std::string_view("\x01"), server}) {
    for (const unsigned char c : part) {
      hash = (hash ^ c) * 0x100000001b3ULL;
    }
  }
  hash ^= hash >> 33;
  hash *= 0xff51afd7ed558ccdULL;
  hash ^= hash >> 33;
  return hash;
}

// std::stable_sort needs get_temporary_buffer, which libstdc++ 12 marks deprecated.
template <typename Less>
void sort_stably(std::vector<UpstreamServer*>& servers, Less less) {
  for (std::size_t i = 1; i < servers.size(); ++i) {
    for (std::size_t j = i; j > 0 && less(servers[j], servers[j - 1]); --j) {
      std::swap(servers[j], servers[j - 1]);
    }
  }
}

}  // namespace

Balancer::Balancer(std::vector<std::unique_ptr<UpstreamServer>> servers, Balance balance,
                   int max_fails, std::chrono::milliseconds fail_timeout)
    : servers_(std::move(servers)),
      balance_(balance),
      max_fails_(max_fails),
      fail_timeout_(fail_timeout) {
  // Smooth weighted order: a server of weight 3 comes up three times, spread out.
  int most = 0;
  for (const auto& server : servers_) {
    most = std::max(most, server->weight);
  }
  for (int round = 0; round < most; ++round) {
    for (const auto& server : servers_) {
      if (server->weight > round) {
        wheel_.push_back(server.get());
      }
    }
  }
}

bool Balancer::up(const UpstreamServer& server, std::int64_t now) const {
  return server.down_until_ms.load(std::memory_order_relaxed) <= now;
}

std::vector<UpstreamServer*> Balancer::order(std::string_view key) {
  std::vector<UpstreamServer*> ordered;
  ordered.reserve(servers_.size());
  if (balance_ == Balance::round_robin) {
    // Each child process starts at its own place on the wheel, so children that serve a few
    // requests each still share them out by weight.
    static const std::uint64_t offset = mix("process", std::to_string(::getpid()));
    const std::size_t start =
        (next_.fetch_add(1, std::memory_order_relaxed) + offset) % wheel_.size();
    for (std::size_t i = 0; i < wheel_.size() && ordered.size() < servers_.size(); ++i) {
      UpstreamServer* server = wheel_[(start + i) % wheel_.size()];
      if (std::find(ordered.begin(), ordered.end(), server) == ordered.end()) {
        ordered.push_back(server);
      }
    }
  } else {
    for (const auto& server : servers_) {
      ordered.push_back(server.get());
    }
    if (balance_ == Balance::least_connections) {
      // Fewest requests in flight per unit of weight; ties keep configuration order.
      // A handful of servers: an insertion sort keeps ties in configuration order.
      sort_stably(ordered, [](UpstreamServer* a, UpstreamServer* b) {
        return static_cast<long>(a->active.load()) * b->weight <
               static_cast<long>(b->active.load()) * a->weight;
      });
    } else {
      sort_stably(ordered, [key](UpstreamServer* a, UpstreamServer* b) {
        return mix(key, a->address.text) > mix(key, b->address.text);
      });
    }
  }
  // Servers that are out go last: tried only when every other one failed too.
  const std::int64_t now = now_ms();
  std::vector<UpstreamServer*> out_of_order;
  std::erase_if(ordered, [&](UpstreamServer* s) {
    if (up(*s, now)) {
      return false;
    }
    out_of_order.push_back(s);
    return true;
  });
  ordered.insert(ordered.end(), out_of_order.begin(), out_of_order.end());
  return ordered;
}

void Balancer::succeeded(UpstreamServer& server) {
  server.failures.store(0, std::memory_order_relaxed);
}

void Balancer::failed(UpstreamServer& server, const std::string& why) {
  if (server.failures.fetch_add(1) + 1 >= max_fails_) {
    server.failures.store(0);
    server.down_until_ms.store(now_ms() + fail_timeout_.count());
    COLLAGE_LOG(LogLevel::warn, "COL-PROXY-0002",
                "upstream {} is left out for {} ms after failing: {}", server.address.text,
                fail_timeout_.count(), why);
  }
}

}  // namespace collage::proxy
