#pragma once
// The TLS provider: one OpenSSL context for the server's certificate and one per virtual host
// that has its own, chosen by SNI; ALPN offers what the listener allows. TLS 1.2 and 1.3 only.

#include <asio/ssl.hpp>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "collage/config.h"
#include "collage/tls.h"

namespace collage::tls {

// The TLS directives of one scope (server or virtual host), as tls_directives() binds them.
struct TlsConfig {
  std::optional<std::string> certificate_file;
  std::optional<std::string> key_file;
  std::vector<std::string> protocols;
  std::string ciphers;
  bool session_tickets = true;
  std::chrono::milliseconds ticket_key_rotation{12 * 3600 * 1000};
  std::size_t max_handshakes = 256;  // TLSMaxHandshakes, across the server; 0: no cap
};
std::span<const Directive> tls_directives();

class Provider final : public TlsProvider {
 public:
  // Returns null with errors filled when a certificate or key is missing, unreadable or does not
  // match (errors point at the directive's file:line).
  static std::unique_ptr<Provider> build(const ServerConfig& config, ConfigErrors& errors);

  Task<std::unique_ptr<Transport>> accept(std::unique_ptr<Transport> tcp,
                                          const std::vector<std::string>* alpn_offers,
                                          std::chrono::milliseconds timeout,
                                          bool issue_tickets) const override;

  // The context for an SNI name (lower-case), or null to keep the default one.
  SSL_CTX* context_for(std::string_view server_name) const;

 private:
  std::unique_ptr<asio::ssl::context> default_context_;
  std::vector<std::unique_ptr<asio::ssl::context>> host_contexts_;
  std::map<std::string, SSL_CTX*, std::less<>> by_name_;
  std::uint32_t max_handshakes_ = 0;
};

}  // namespace collage::tls
