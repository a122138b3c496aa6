// The TLS module: its directives, and the provider the framework uses for tls="on" listeners.

#include <asio/ssl/impl/src.hpp>  // Asio's TLS layer, compiled once here

#include "collage/registry.h"
#include "tls_provider.h"

namespace collage::tls {
namespace {

constexpr unsigned kServerOrHost = kServerContext | kVirtualHostContext;

const Directive kDirectives[] = {
    {.name = "TLSCertificateFile",
     .type = ArgType::path,
     .contexts = kServerOrHost,
     .help = "PEM certificate (with its chain) for TLS; in a virtual host, chosen by SNI.",
     .field = bind<&TlsConfig::certificate_file>()},
    {.name = "TLSCertificateKeyFile",
     .type = ArgType::path,
     .contexts = kServerOrHost,
     .help = "PEM private key matching TLSCertificateFile.",
     .field = bind<&TlsConfig::key_file>()},
    {.name = "TLSProtocols",
     .type = ArgType::list,
     .contexts = kServerOrHost,
     .default_value = "TLSv1.2 TLSv1.3",
     .help = "TLS versions accepted (TLSv1.2, TLSv1.3); older ones are never offered.",
     .field = bind<&TlsConfig::protocols>()},
    {.name = "TLSCiphers",
     .type = ArgType::string,
     .contexts = kServerOrHost,
     .default_value = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
                      "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
                      "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305",
     .help = "OpenSSL cipher list for TLS 1.2 (TLS 1.3 suites are OpenSSL's defaults).",
     .field = bind<&TlsConfig::ciphers>()},
    {.name = "TLSSessionTickets",
     .type = ArgType::flag,
     .contexts = kServerOrHost,
     .default_value = "on",
     .help = "Resume sessions with tickets (RFC 8446 / RFC 5077).",
     .field = bind<&TlsConfig::session_tickets>()},
    {.name = "TLSTicketKeyRotation",
     .type = ArgType::duration,
     .contexts = kServerContext,
     .default_value = "12h",
     .help = "How long one session-ticket key encrypts; with the cache's memcached tier, each "
             "period's key is shared by every node (docs/cache.md).",
     .min = 60'000,
     .field = bind<&TlsConfig::ticket_key_rotation>()},
    {.name = "TLSMaxHandshakes",
     .type = ArgType::integer,
     .contexts = kServerContext,
     .default_value = "256",
     .help = "TLS handshakes in progress at once across every child; beyond it a new connection "
             "is closed before its handshake (COL-TLS-0003, counted on the status page). 0: no "
             "cap.",
     .min = 0,
     .max = 1'000'000,
     .field = bind<&TlsConfig::max_handshakes>()},
};

}  // namespace

std::span<const Directive> tls_directives() {
  return kDirectives;
}

void register_module(Registry& registry) {
  registry.add_module({"tls", ModuleKind::protocol, "TLS 1.2/1.3 with SNI and ALPN (OpenSSL)"},
                      kDirectives);
  registry.set_tls([](const ServerConfig& config, bool required,
                      ConfigErrors& errors) -> std::unique_ptr<TlsProvider> {
    bool any_certificate = config.scope->read<TlsConfig>(kDirectives).certificate_file.has_value();
    for (const VirtualHostConfig& host : config.virtual_hosts) {
      any_certificate =
          any_certificate || host.scope->read<TlsConfig>(kDirectives).certificate_file.has_value();
    }
    if (!any_certificate && !required) {
      return nullptr;  // no TLS wanted anywhere
    }
    return Provider::build(config, errors);
  });
}

}  // namespace collage::tls
