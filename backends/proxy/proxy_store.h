#pragma once
// The reverse proxy store: each request goes to one of the location's upstream HTTP/1.1
// servers, its body streamed there, the response's head turned into the entity's and its body
// streamed back as the client reads it (bounded memory both ways). Responses pass through the
// cache and the filters like any store's.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "balancer.h"
#include "collage/store.h"
#include "health_check.h"
#include "proxy_body.h"
#include "response_head.h"

namespace collage {
class AddressRules;
}

namespace collage::proxy {

struct ProxySettings {
  std::vector<std::string> pass;  // ProxyPass: URLs, each maybe followed by weight=N
  std::string balance = "roundrobin";
  std::string hash_key = "uri";
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds read_timeout{60000};
  std::uint64_t keepalive = 32;
  int max_fails = 1;
  std::chrono::milliseconds fail_timeout{10000};
  bool preserve_host = false;
  bool rewrite_location = true;
  std::vector<std::string> trusted;
  bool send_proxy_protocol = false;
  bool websockets = true;
  std::chrono::milliseconds tunnel_timeout{3'600'000};
  HealthSettings health;
};

class ProxyStore final : public Store {
 public:
  ProxyStore(ProxySettings settings, std::shared_ptr<Balancer> balancer, std::string base_path,
             std::shared_ptr<const AddressRules> trusted);
  MethodSet methods() const override;
  Task<void> handle(RequestContext& ctx, Entity& out) const override;

 private:
  struct Exchange;
  std::string upstream_target(const RequestContext& ctx) const;
  // `upgrade`: the protocol the client asks to switch to (passed on), or empty.
  std::string request_head(const RequestContext& ctx, const UpstreamServer& server, bool has_body,
                           std::optional<std::uint64_t> length, std::string_view upgrade) const;
  void rewrite_location(const RequestContext& ctx, const UpstreamServer& server,
                        std::string& value) const;
  std::string rewrite_cookie_path(const RequestContext& ctx, std::string_view cookie) const;
  // The upstream accepted the client's Upgrade: a 101 whose tunnel owns the connection.
  void switch_protocols(const ResponseHead& response,
                        std::unique_ptr<gateway::UpstreamSocket> socket,
                        std::unique_ptr<InFlight> in_flight, std::size_t consumed,
                        std::string buffer, const std::string& upstream, Entity& out) const;

  ProxySettings settings_;
  std::shared_ptr<Balancer> balancer_;  // shared with the health checks
  std::string base_path_;  // the upstream path the location's prefix maps onto ("" for none)
  std::shared_ptr<const AddressRules> trusted_;
};

}  // namespace collage::proxy
