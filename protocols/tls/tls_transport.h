#pragma once
// A Transport that speaks TLS over an accepted TCP transport (Asio's ssl::stream on OpenSSL).

#include <asio/ssl.hpp>
#include <memory>
#include <vector>

#include "collage/transport.h"

namespace collage::tls {

class TlsTransport final : public Transport {
 public:
  TlsTransport(std::unique_ptr<Transport> tcp, asio::ssl::context& context);

  asio::ssl::stream<asio::ip::tcp::socket&>& stream() { return stream_; }

  asio::ip::tcp::socket& socket() override { return tcp_->socket(); }
  Task<std::pair<asio::error_code, std::size_t>> read_some(asio::mutable_buffer into) override;
  // TLS may hold decrypted bytes the socket no longer shows, so never wait on the socket.
  Task<asio::error_code> wait_readable() override { co_return asio::error_code(); }
  Task<WireResult> write(std::string_view data, bool more) override;
  // No sendfile through user-space TLS: read the file in blocks and encrypt them.
  Task<WireResult> write_file(const Bucket& file_bucket) override;
  void try_send_now(std::string_view) override {}
  void shutdown_send() override {}
  // close_notify both ways, then the TCP close.
  Task<void> close_gracefully(std::chrono::milliseconds timeout) override;

  std::string_view negotiated_protocol() const override { return alpn_; }
  bool secure() const override { return true; }
  std::string_view server_name() const override { return server_name_; }
  std::string_view tls_version() const override { return version_; }
  // Records what the handshake settled (ALPN, SNI); call once it succeeded.
  void after_handshake();

 private:
  std::unique_ptr<Transport> tcp_;
  asio::ssl::stream<asio::ip::tcp::socket&> stream_;
  std::vector<char> file_buffer_;
  std::string server_name_;
  std::string alpn_;
  std::string_view version_;  // OpenSSL's static name of the version
};

}  // namespace collage::tls
