#include "collage/wire.h"

#include <sys/sendfile.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace collage {

Task<WireResult> wire_send(asio::ip::tcp::socket& socket, std::string_view data, bool more,
                           const BeforeWait& before_wait) {
  const int flags = MSG_NOSIGNAL | (more ? MSG_MORE : 0);
  while (!data.empty()) {
    const ssize_t n = ::send(socket.native_handle(), data.data(), data.size(), flags);
    if (n > 0) {
      data.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      before_wait();
      auto [ec] = co_await socket.async_wait(asio::socket_base::wait_write, kAsTuple);
      if (ec) {
        co_return WireResult::closed;
      }
      continue;
    }
    co_return WireResult::closed;
  }
  co_return WireResult::ok;
}

Task<WireResult> wire_send_file(asio::ip::tcp::socket& socket, const Bucket& file_bucket,
                                const BeforeWait& before_wait) {
  off_t offset = static_cast<off_t>(file_bucket.offset);
  std::uint64_t left = file_bucket.length;
  while (left > 0) {
    const std::size_t chunk = static_cast<std::size_t>(std::min<std::uint64_t>(left, 1u << 30));
    const ssize_t n = ::sendfile(socket.native_handle(), file_bucket.file->fd(), &offset, chunk);
    if (n > 0) {
      left -= static_cast<std::uint64_t>(n);
      continue;
    }
    if (n == 0) {
      co_return WireResult::truncated;
    }
    if (errno == EINTR) {
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      before_wait();
      auto [ec] = co_await socket.async_wait(asio::socket_base::wait_write, kAsTuple);
      if (ec) {
        co_return WireResult::closed;
      }
      continue;
    }
    co_return WireResult::closed;
  }
  co_return WireResult::ok;
}

}  // namespace collage
