#include <sys/socket.h>

#include <array>
#include <asio/experimental/awaitable_operators.hpp>
#include <cerrno>

#include "collage/transport.h"

namespace collage {

PeerInfo Transport::peer_info() {
  PeerInfo peer;
  asio::error_code ec;
  const auto remote = socket().remote_endpoint(ec);
  peer.address = remote.address().to_string();
  peer.port = remote.port();
  const auto local = socket().local_endpoint(ec);
  peer.local_address = local.address().to_string();
  peer.local_port = local.port();
  return peer;
}

Task<void> Transport::close_gracefully(std::chrono::milliseconds timeout) {
  using namespace asio::experimental::awaitable_operators;
  shutdown_send();
  asio::steady_timer timer(socket().get_executor());
  timer.expires_after(timeout);
  auto drain = [this]() -> Task<void> {
    std::array<char, 4096> sink;
    for (;;) {
      auto [ec, n] = co_await read_some(asio::buffer(sink));
      if (ec || n == 0) {
        co_return;
      }
    }
  };
  co_await (drain() || timer.async_wait(kAsTuple));
  close();
}

namespace {

class TcpTransport final : public Transport {
 public:
  explicit TcpTransport(asio::ip::tcp::socket socket) : socket_(std::move(socket)) {
    asio::error_code ec;
    socket_.native_non_blocking(true, ec);
  }

  asio::ip::tcp::socket& socket() override { return socket_; }

  Task<std::pair<asio::error_code, std::size_t>> read_some(asio::mutable_buffer into) override {
    auto [ec, n] = co_await socket_.async_read_some(into, kAsTuple);
    co_return std::pair{ec, n};
  }

  std::optional<std::size_t> read_now(asio::mutable_buffer into) override {
    const ssize_t n = ::recv(socket_.native_handle(), into.data(), into.size(), MSG_DONTWAIT);
    if (n > 0) {
      return static_cast<std::size_t>(n);
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
      return std::nullopt;
    }
    return 0;  // the end, or an error: either way the stream is over
  }

  Task<asio::error_code> wait_readable() override {
    auto [ec] = co_await socket_.async_wait(asio::socket_base::wait_read, kAsTuple);
    co_return ec;
  }

  Task<WireResult> write(std::string_view data, bool more) override {
    co_return co_await wire_send(socket_, data, more, before_wait_);
  }

  Task<WireResult> write_file(const Bucket& file_bucket) override {
    co_return co_await wire_send_file(socket_, file_bucket, before_wait_);
  }

  void try_send_now(std::string_view data) override {
    [[maybe_unused]] ssize_t n =
        ::send(socket_.native_handle(), data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  }

  void shutdown_send() override {
    asio::error_code ec;
    socket_.shutdown(asio::socket_base::shutdown_send, ec);
  }

 private:
  asio::ip::tcp::socket socket_;
};

}  // namespace

std::unique_ptr<Transport> make_tcp_transport(asio::ip::tcp::socket socket) {
  return std::make_unique<TcpTransport>(std::move(socket));
}

}  // namespace collage
