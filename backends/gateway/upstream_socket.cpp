#include "upstream_socket.h"

#include <sys/socket.h>
#include <unistd.h>

#include <asio/connect.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/write.hpp>
#include <cerrno>
#include <charconv>

namespace collage::gateway {

bool parse_upstream(std::string_view text, UpstreamAddress& out, std::string& error) {
  out = UpstreamAddress{};
  out.text = text;
  if (text.starts_with("unix:")) {
    out.family = AF_UNIX;
    out.path = text.substr(5);
    if (out.path.empty() || out.path.size() >= sizeof(sockaddr_un{}.sun_path)) {
      error = "a unix: socket path must be 1 to 107 bytes";
      return false;
    }
    return true;
  }
  const std::size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    error = "expected unix:/path or host:port";
    return false;
  }
  std::string_view host = text.substr(0, colon);
  const std::string_view port = text.substr(colon + 1);
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
    error = "the port must be a number from 1 to 65535";
    return false;
  }
  if (host.starts_with('[') && host.ends_with(']')) {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost") {
    host = "127.0.0.1";
  }
  asio::error_code bad;
  const asio::ip::address address = asio::ip::make_address(std::string(host), bad);
  if (bad) {
    error = "the host must be a numeric address (or localhost)";
    return false;
  }
  out.family = address.is_v6() ? AF_INET6 : AF_INET;
  out.host = address.to_string();
  out.port = static_cast<std::uint16_t>(value);
  return true;
}

ConnectionPool::~ConnectionPool() {
  for (int fd : idle_) {
    ::close(fd);
  }
}

int ConnectionPool::take() {
  std::lock_guard lock(mutex_);
  while (!idle_.empty()) {
    const int fd = idle_.back();
    idle_.pop_back();
    // An idle connection the server closed (php-fpm's process recycling) reads as EOF.
    char probe;
    const ssize_t n = ::recv(fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return fd;
    }
    ::close(fd);
  }
  return -1;
}

void ConnectionPool::give(int fd) {
  {
    std::lock_guard lock(mutex_);
    if (idle_.size() < max_idle_) {
      idle_.push_back(fd);
      return;
    }
  }
  ::close(fd);
}

UpstreamSocket::UpstreamSocket(const asio::any_io_executor& executor,
                               std::shared_ptr<ConnectionPool> pool,
                               std::chrono::milliseconds io_timeout)
    : socket_(executor),
      pool_(std::move(pool)),
      io_timeout_(io_timeout),
      watchdog_(executor, [this] {
        timed_out_ = true;
        asio::error_code ignored;
        socket_.close(ignored);
        return true;
      }) {
  watchdog_.start();
}

Task<bool> UpstreamSocket::open(const UpstreamAddress& address,
                                std::chrono::milliseconds connect_timeout, bool may_reuse,
                                bool& reused, std::string& error) {
  const asio::generic::stream_protocol protocol(address.family, 0);
  if (const int fd = may_reuse ? pool_->take() : -1; fd >= 0) {
    asio::error_code ec;
    socket_.assign(protocol, fd, ec);
    if (!ec) {
      reused = true;
      co_return true;
    }
    ::close(fd);
  }
  reused = false;
  asio::generic::stream_protocol::endpoint endpoint =
      address.family == AF_UNIX ? asio::generic::stream_protocol::endpoint(
                                      asio::local::stream_protocol::endpoint(address.path))
                                : asio::generic::stream_protocol::endpoint(asio::ip::tcp::endpoint(
                                      asio::ip::make_address(address.host), address.port));
  watchdog_.set_deadline(Watchdog::Clock::now() + connect_timeout);
  auto [ec] = co_await socket_.async_connect(endpoint, kAsTuple);
  watchdog_.set_deadline(Watchdog::Clock::time_point::max());
  if (ec || timed_out_) {
    error = timed_out_ ? "connecting timed out" : ec.message();
    co_return false;
  }
  if (address.family != AF_UNIX) {
    asio::error_code ignored;
    socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  }
  co_return true;
}

Task<bool> UpstreamSocket::write(std::string_view bytes, std::string& error) {
  watchdog_.set_deadline(Watchdog::Clock::now() + io_timeout_);
  auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(bytes), kAsTuple);
  watchdog_.set_deadline(Watchdog::Clock::time_point::max());
  if (ec || timed_out_) {
    error = timed_out_ ? "sending timed out" : ec.message();
    co_return false;
  }
  co_return true;
}

Task<UpstreamRead> UpstreamSocket::read_more(std::string& buffer, std::size_t most) {
  const std::size_t before = buffer.size();
  buffer.resize(before + most);
  watchdog_.set_deadline(Watchdog::Clock::now() + io_timeout_);
  auto [ec, n] =
      co_await socket_.async_read_some(asio::buffer(buffer.data() + before, most), kAsTuple);
  watchdog_.set_deadline(Watchdog::Clock::time_point::max());
  buffer.resize(before + n);
  if (timed_out_) {
    co_return UpstreamRead::timed_out;
  }
  if (ec == asio::error::eof) {
    co_return UpstreamRead::closed;
  }
  if (ec) {
    co_return UpstreamRead::failed;
  }
  co_return UpstreamRead::data;
}

void UpstreamSocket::release_to_pool() {
  if (!socket_.is_open() || timed_out_) {
    return;
  }
  asio::error_code ec;
  const int fd = socket_.release(ec);
  if (!ec && fd >= 0) {
    pool_->give(fd);
  }
}

void UpstreamSocket::close() {
  asio::error_code ignored;
  socket_.close(ignored);
}

}  // namespace collage::gateway
