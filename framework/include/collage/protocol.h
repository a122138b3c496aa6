#pragma once
// A protocol front end: owns every wire matter of one protocol and speaks to the rest of the
// server only through Request and Entity.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "collage/asio.h"
#include "collage/transport.h"

namespace collage {

class Generation;
struct Listener;
class Services;
class ConnectionScore;
struct PeerInfo;

struct ConnectionContext {
  std::shared_ptr<const Generation> generation;  // kept alive for the connection's whole life
  const Listener* listener = nullptr;
  Services* services = nullptr;
  // The connection's scoreboard entry (states, request counts); null outside a running server.
  ConnectionScore* score = nullptr;
  // Both ends of the connection, known from accept() (saves asking the socket); null if not.
  const PeerInfo* peer = nullptr;
};

// A connection passed from one front end to another mid-stream: HTTP/1.1 hands over to HTTP/2
// for the h2c preface ("prior knowledge") or an "Upgrade: h2c" request.
struct Handover {
  std::string already_read;    // bytes read from the transport but not consumed yet
  bool upgrade = false;        // an HTTP/1.1 request asked to upgrade; answer it on stream 1
  std::string http2_settings;  // its HTTP2-Settings header (base64url)
  std::string method;
  std::string target;
  std::string authority;
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names
};

class Protocol {
 public:
  virtual ~Protocol() = default;
  // Serves one accepted connection until it closes. Runs as its own coroutine on the executor
  // the MPM chose for this connection; must not block that thread and must not throw. The
  // transport is plain TCP from an MPM, or TLS when the TLS front end hands a connection over.
  virtual Task<void> serve(std::unique_ptr<Transport> transport,
                           ConnectionContext context) const = 0;
  // Continues a connection another front end started (see Handover), which the caller keeps
  // alive until this returns. The default refuses by closing it.
  virtual Task<void> take_over(std::unique_ptr<Transport> transport, ConnectionContext context,
                               const Handover& handover) const {
    (void)context;
    (void)handover;
    transport->close();
    co_return;
  }
};

}  // namespace collage
