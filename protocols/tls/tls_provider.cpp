#include "tls_provider.h"

#include "collage/scoreboard.h"

#include "collage/core_settings.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <asio/experimental/awaitable_operators.hpp>
#include <cstring>

#include "collage/log.h"
#include "ticket_keys.h"
#include "tls_transport.h"

namespace collage::tls {
namespace {

std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) {
    return "unknown error";
  }
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

// Where a connection's ALPN offers hang on its SSL object. Not SSL app data: Asio owns that.
int alpn_offers_index() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// Server preference: the first of our offers that the client also lists.
int select_alpn(SSL* ssl, const unsigned char** out, unsigned char* out_length,
                const unsigned char* in, unsigned int in_length, void* /*arg*/) {
  const auto* offers =
      static_cast<const std::vector<std::string>*>(SSL_get_ex_data(ssl, alpn_offers_index()));
  if (offers == nullptr) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  for (const std::string& offer : *offers) {
    for (unsigned int i = 0; i < in_length;) {
      const unsigned int length = in[i];
      if (i + 1 + length > in_length) {
        break;
      }
      if (length == offer.size() && std::memcmp(in + i + 1, offer.data(), length) == 0) {
        *out = in + i + 1;
        *out_length = static_cast<unsigned char>(length);
        return SSL_TLSEXT_ERR_OK;
      }
      i += 1 + length;
    }
  }
  return SSL_TLSEXT_ERR_NOACK;
}

int select_host(SSL* ssl, int* /*alert*/, void* arg) {
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (name == nullptr) {
    return SSL_TLSEXT_ERR_OK;
  }
  std::string lower(name);
  for (char& c : lower) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (SSL_CTX* ctx = static_cast<const Provider*>(arg)->context_for(lower)) {
    SSL_set_SSL_CTX(ssl, ctx);
  }
  return SSL_TLSEXT_ERR_OK;
}

std::unique_ptr<asio::ssl::context> make_context(const Scope& scope, ConfigErrors& errors) {
  const TlsConfig tls = scope.read<TlsConfig>(tls_directives());
  if (!tls.certificate_file || !tls.key_file) {
    errors.add(scope.where(), "TLS needs TLSCertificateFile and TLSCertificateKeyFile");
    return nullptr;
  }
  SSL_CTX* ctx = SSL_CTX_new(TLS_server_method());
  auto context = std::make_unique<asio::ssl::context>(ctx);
  int min_version = 0;
  int max_version = 0;
  for (const std::string& word : tls.protocols) {
    const int version = word == "TLSv1.2" ? TLS1_2_VERSION : word == "TLSv1.3" ? TLS1_3_VERSION : 0;
    if (version == 0) {
      errors.add(scope.where("TLSProtocols"),
                 "TLSProtocols accepts TLSv1.2 and TLSv1.3, got '" + word + "'");
      continue;
    }
    min_version = min_version == 0 ? version : std::min(min_version, version);
    max_version = std::max(max_version, version);
  }
  if (min_version == 0) {
    errors.add(scope.where("TLSProtocols"), "TLSProtocols names no protocol version");
    return nullptr;
  }
  SSL_CTX_set_min_proto_version(ctx, min_version);
  SSL_CTX_set_max_proto_version(ctx, max_version);
  long options = SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION;
  if (!tls.session_tickets) {
    options |= SSL_OP_NO_TICKET;
  } else {
    TicketKeys::instance().configure(
        std::chrono::duration_cast<std::chrono::seconds>(tls.ticket_key_rotation));
    TicketKeys::instance().install(ctx);
  }
  SSL_CTX_set_options(ctx, options);
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_SERVER);
  static const unsigned char kSessionContext[] = "collage";
  SSL_CTX_set_session_id_context(ctx, kSessionContext, sizeof kSessionContext - 1);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);  // idle TLS connections hold no buffers
  if (SSL_CTX_set_cipher_list(ctx, tls.ciphers.c_str()) != 1) {
    errors.add(scope.where("TLSCiphers"), "TLSCiphers: " + openssl_error());
  }
  const std::string& certificate = *tls.certificate_file;
  const std::string& key = *tls.key_file;
  if (SSL_CTX_use_certificate_chain_file(ctx, certificate.c_str()) != 1) {
    errors.add(scope.where("TLSCertificateFile"),
               "cannot load certificate " + certificate + ": " + openssl_error());
    return nullptr;
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    const bool mismatch = ERR_GET_REASON(ERR_peek_error()) == X509_R_KEY_VALUES_MISMATCH;
    errors.add(scope.where("TLSCertificateKeyFile"),
               mismatch ? "private key " + key + " does not match certificate " + certificate
                        : "cannot load private key " + key + ": " + openssl_error());
    ERR_clear_error();
    return nullptr;
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    errors.add(scope.where("TLSCertificateKeyFile"),
               "private key " + key + " does not match certificate " + certificate);
    return nullptr;
  }
  SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);
  return context;
}

}  // namespace

std::unique_ptr<Provider> Provider::build(const ServerConfig& config, ConfigErrors& errors) {
  auto provider = std::make_unique<Provider>();
  const Scope& server = *config.scope;
  // The default certificate: the server's, or else the first virtual host that has one.
  const Scope* default_scope = &server;
  auto has_certificate = [](const Scope& scope) {
    return scope.read<TlsConfig>(tls_directives()).certificate_file.has_value();
  };
  if (!has_certificate(server)) {
    for (const VirtualHostConfig& host : config.virtual_hosts) {
      if (has_certificate(*host.scope)) {
        default_scope = host.scope.get();
        break;
      }
    }
  }
  provider->max_handshakes_ =
      static_cast<std::uint32_t>(server.read<TlsConfig>(tls_directives()).max_handshakes);
  provider->default_context_ = make_context(*default_scope, errors);
  if (!provider->default_context_) {
    return nullptr;
  }
  for (const VirtualHostConfig& host : config.virtual_hosts) {
    const Scope& scope = *host.scope;
    // Its own certificate: one set in this virtual host, not inherited from the server.
    const bool own = scope.set_here("TLSCertificateFile") != nullptr;
    SSL_CTX* ctx = provider->default_context_->native_handle();
    if (own && &scope != default_scope) {
      auto context = make_context(scope, errors);
      if (!context) {
        continue;
      }
      ctx = context->native_handle();
      provider->host_contexts_.push_back(std::move(context));
    }
    provider->by_name_.emplace(host.name, ctx);
    for (std::string alias : place_settings(scope).server_alias) {
      for (char& c : alias) {
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      provider->by_name_.emplace(alias, ctx);
    }
  }
  SSL_CTX_set_tlsext_servername_callback(provider->default_context_->native_handle(), select_host);
  SSL_CTX_set_tlsext_servername_arg(provider->default_context_->native_handle(), provider.get());
  return provider;
}

SSL_CTX* Provider::context_for(std::string_view server_name) const {
  if (auto it = by_name_.find(server_name); it != by_name_.end()) {
    return it->second;
  }
  // "*.example.org" covers "www.example.org".
  const std::size_t dot = server_name.find('.');
  if (dot != std::string_view::npos) {
    const std::string wildcard = "*" + std::string(server_name.substr(dot));
    if (auto it = by_name_.find(wildcard); it != by_name_.end()) {
      return it->second;
    }
  }
  return nullptr;
}

Task<std::unique_ptr<Transport>> Provider::accept(std::unique_ptr<Transport> tcp,
                                                  const std::vector<std::string>* alpn_offers,
                                                  std::chrono::milliseconds timeout,
                                                  bool issue_tickets) const {
  using namespace asio::experimental::awaitable_operators;
  if (!begin_tls_handshake(max_handshakes_)) {
    // A handshake costs the server far more CPU than the client: past the cap a new
    // connection is closed at once rather than queued. Said once a second at most.
    static std::atomic<std::int64_t> last_said{0};
    const std::int64_t now = wall_clock_ms() / 1000;
    if (last_said.exchange(now) != now) {
      asio::error_code ignored;
      COLLAGE_LOG(LogLevel::warn, "COL-TLS-0003",
                  "{}: {} TLS handshakes already in progress (TLSMaxHandshakes); closed",
                  tcp->socket().remote_endpoint(ignored).address().to_string(), max_handshakes_);
    }
    tcp->close();
    co_return nullptr;
  }
  struct HandshakeDone {
    ~HandshakeDone() { end_tls_handshake(); }
  } handshake_done;
  auto tls = std::make_unique<TlsTransport>(std::move(tcp), *default_context_);
  if (!issue_tickets) {
    SSL_set_num_tickets(tls->stream().native_handle(), 0);
  }
  SSL_set_ex_data(tls->stream().native_handle(), alpn_offers_index(),
                  const_cast<std::vector<std::string>*>(alpn_offers));
  asio::steady_timer timer(tls->socket().get_executor());
  timer.expires_after(timeout);
  auto result = co_await (tls->stream().async_handshake(asio::ssl::stream_base::server, kAsTuple) ||
                          timer.async_wait(kAsTuple));
  asio::error_code ec;
  if (result.index() == 1) {
    ec = asio::error::timed_out;
  } else {
    ec = std::get<0>(std::get<0>(result));
  }
  if (ec) {
    asio::error_code ignored;
    const auto peer = tls->socket().remote_endpoint(ignored);
    COLLAGE_LOG(LogLevel::info, "COL-TLS-0001", "{}: TLS handshake failed: {}",
                peer.address().to_string(), ec.message());
    co_return nullptr;
  }
  tls->after_handshake();
  co_return tls;
}

}  // namespace collage::tls
