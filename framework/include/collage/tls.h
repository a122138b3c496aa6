#pragma once
// TLS as the framework sees it: a provider, built once per configuration generation by the TLS
// module, that turns an accepted TCP transport into a TLS transport. Listeners marked tls="on"
// go through it before their front end; FTP's AUTH TLS uses it in the middle of a session.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "collage/transport.h"

namespace collage {

class TlsProvider {
 public:
  virtual ~TlsProvider() = default;
  // Runs the server side of the handshake, offering the ALPN protocol ids in alpn_offers (in
  // order of preference; empty: no ALPN). issue_tickets false sends no TLS 1.3 session tickets
  // (for streams the client only writes to). Returns null when the handshake fails or times out
  // (the failure is logged). Called on the connection's executor; suspends.
  virtual Task<std::unique_ptr<Transport>> accept(std::unique_ptr<Transport> tcp,
                                                  const std::vector<std::string>* alpn_offers,
                                                  std::chrono::milliseconds timeout,
                                                  bool issue_tickets = true) const = 0;
};

}  // namespace collage
