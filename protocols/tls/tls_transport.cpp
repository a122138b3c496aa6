#include "tls_transport.h"

#include "collage/file_read.h"

#include <unistd.h>

#include <algorithm>
#include <asio/experimental/awaitable_operators.hpp>

namespace collage::tls {

TlsTransport::TlsTransport(std::unique_ptr<Transport> tcp, asio::ssl::context& context)
    : tcp_(std::move(tcp)), stream_(tcp_->socket(), context) {}

Task<std::pair<asio::error_code, std::size_t>> TlsTransport::read_some(asio::mutable_buffer into) {
  auto [ec, n] = co_await stream_.async_read_some(into, kAsTuple);
  co_return std::pair{ec, n};
}

Task<WireResult> TlsTransport::write(std::string_view data, bool /*more*/) {
  before_wait_();
  auto [ec, n] =
      co_await asio::async_write(stream_, asio::buffer(data.data(), data.size()), kAsTuple);
  co_return ec ? WireResult::closed : WireResult::ok;
}

Task<WireResult> TlsTransport::write_file(const Bucket& file_bucket) {
  constexpr std::size_t kBlock = 64 * 1024;
  if (file_buffer_.empty()) {
    file_buffer_.resize(kBlock);
  }
  std::uint64_t offset = file_bucket.offset;
  std::uint64_t left = file_bucket.length;
  while (left > 0) {
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(left, kBlock));
    // Cached data is read here; what the disk must bring in is read on the blocking pool.
    const ssize_t n = co_await read_file_range(services_, file_bucket.file->fd(),
                                               file_buffer_.data(), want, offset);
    if (n <= 0) {
      co_return WireResult::truncated;
    }
    const WireResult result =
        co_await write(std::string_view(file_buffer_.data(), static_cast<std::size_t>(n)), true);
    if (result != WireResult::ok) {
      co_return result;
    }
    offset += static_cast<std::uint64_t>(n);
    left -= static_cast<std::uint64_t>(n);
  }
  co_return WireResult::ok;
}

Task<void> TlsTransport::close_gracefully(std::chrono::milliseconds timeout) {
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer timer(socket().get_executor());
  timer.expires_after(timeout);
  co_await (stream_.async_shutdown(kAsTuple) || timer.async_wait(kAsTuple));
  close();
}

void TlsTransport::after_handshake() {
  const unsigned char* data = nullptr;
  unsigned int length = 0;
  SSL_get0_alpn_selected(stream_.native_handle(), &data, &length);
  alpn_.assign(reinterpret_cast<const char*>(data), data == nullptr ? 0 : length);
  const char* name = SSL_get_servername(stream_.native_handle(), TLSEXT_NAMETYPE_host_name);
  server_name_ = name != nullptr ? name : "";
  version_ = SSL_get_version(stream_.native_handle());
  for (char& c : server_name_) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
}

}  // namespace collage::tls
