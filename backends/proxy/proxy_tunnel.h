#pragma once
// A WebSocket (any `Upgrade` the upstream accepted with 101) relayed between the client and the
// upstream connection: bytes both ways, each direction one part in memory at a time, until
// either side closes or nothing moves for the idle timeout.

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "collage/tunnel.h"
#include "collage/watchdog.h"
#include "proxy_body.h"
#include "upstream_socket.h"

namespace collage::proxy {

class ProxyTunnel final : public Tunnel {
 public:
  // `upstream_bytes`: what the upstream sent after its 101 head, for the client first.
  // `in_flight` counts the tunnel as the server's active request (least connections).
  ProxyTunnel(std::unique_ptr<gateway::UpstreamSocket> upstream, std::string upstream_bytes,
              std::chrono::milliseconds idle_timeout, std::string upstream_name,
              std::unique_ptr<InFlight> in_flight);
  Task<void> relay(Transport& client, std::string_view already_read) override;

 private:
  Task<void> client_to_upstream(Transport& client, std::string already_read);
  Task<void> upstream_to_client(Transport& client);
  void touch();
  void close_both(Transport& client);

  std::unique_ptr<gateway::UpstreamSocket> upstream_;
  std::string upstream_bytes_;
  std::chrono::milliseconds idle_timeout_;
  std::string upstream_name_;
  std::unique_ptr<InFlight> in_flight_;
  std::uint64_t to_upstream_ = 0;
  std::uint64_t to_client_ = 0;
  std::optional<Watchdog> idle_;  // closes both sides when nothing moved for idle_timeout_
  bool closed_ = false;
};

}  // namespace collage::proxy
