#pragma once
// A connection to a server behind a store (a FastCGI application server, a proxied HTTP
// server) over a Unix or TCP socket: connecting, writing and reading with deadlines, and a pool
// of idle connections kept open between requests.

#include <sys/socket.h>

#include <asio/generic/stream_protocol.hpp>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "collage/asio.h"
#include "collage/watchdog.h"

namespace collage::gateway {

struct UpstreamAddress {
  std::string text;  // as configured: "unix:/run/php/php-fpm.sock" or "127.0.0.1:9000"
  int family = AF_UNIX;
  std::string path;  // AF_UNIX
  std::string host;  // numeric address for AF_INET/AF_INET6
  std::uint16_t port = 0;
};

// Parses "unix:/path", "host:port" or "[v6]:port" (numeric hosts or localhost).
bool parse_upstream(std::string_view text, UpstreamAddress& out, std::string& error);

// Idle connections to one upstream, shared by every thread of a child process; kept as plain
// descriptors so any event loop can take one.
class ConnectionPool {
 public:
  explicit ConnectionPool(std::size_t max_idle) : max_idle_(max_idle) {}
  ~ConnectionPool();
  ConnectionPool(const ConnectionPool&) = delete;
  ConnectionPool& operator=(const ConnectionPool&) = delete;
  // An idle connection the server has not closed meanwhile, or -1.
  int take();
  // Keeps the connection for the next request, or closes it when enough are idle.
  void give(int fd);

 private:
  std::mutex mutex_;
  std::vector<int> idle_;
  std::size_t max_idle_;
};

enum class UpstreamRead : std::uint8_t { data, closed, timed_out, failed };

class UpstreamSocket {
 public:
  UpstreamSocket(const asio::any_io_executor& executor, std::shared_ptr<ConnectionPool> pool,
                 std::chrono::milliseconds io_timeout);
  UpstreamSocket(const UpstreamSocket&) = delete;
  UpstreamSocket& operator=(const UpstreamSocket&) = delete;

  // Takes an idle connection from the pool (if `may_reuse`), or connects. `reused` tells which.
  Task<bool> open(const UpstreamAddress& address, std::chrono::milliseconds connect_timeout,
                  bool may_reuse, bool& reused, std::string& error);
  Task<bool> write(std::string_view bytes, std::string& error);
  // Appends what arrives (up to `most` bytes) to `buffer`.
  Task<UpstreamRead> read_more(std::string& buffer, std::size_t most);
  // The exchange ended cleanly with nothing unread: the connection goes back to the pool.
  void release_to_pool();
  void close();
  // The deadline of each later connect, write and read.
  void set_io_timeout(std::chrono::milliseconds timeout) { io_timeout_ = timeout; }

 private:
  asio::generic::stream_protocol::socket socket_;
  std::shared_ptr<ConnectionPool> pool_;
  std::chrono::milliseconds io_timeout_;
  Watchdog watchdog_;
  bool timed_out_ = false;
};

}  // namespace collage::gateway
