#pragma once
// A connection a store switched to another protocol: a WebSocket (RFC 6455) through the reverse
// proxy. The store answers 101 with Entity::tunnel set; the HTTP/1.1 front end writes the head and
// hands its client connection to the tunnel, which relays bytes both ways until either side ends
// or the connection idles too long. The connection is not reused afterwards.

#include <string_view>

#include "collage/asio.h"

namespace collage {

class Transport;

class Tunnel {
 public:
  virtual ~Tunnel() = default;
  // Called once, on the connection's executor, after the 101 head went out. `already_read`: bytes
  // the client sent after its request head. Returns when both directions have ended; never throws.
  virtual Task<void> relay(Transport& client, std::string_view already_read) = 0;
};

}  // namespace collage
