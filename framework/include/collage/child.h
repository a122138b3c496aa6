#pragma once
// What every MPM's child process does alike: take the stop signals, accept on the inherited
// listening sockets while it has room, and stop in the mode it was asked to. An MPM composes
// these on its own io_context (the listener thread); protocol code never sees them.

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include <asio/signal_set.hpp>

#include "collage/asio.h"
#include "collage/mpm.h"
#include "collage/server.h"

namespace collage {

enum class StopMode : std::uint8_t {
  none,
  immediate,         // SIGTERM: close everything now
  graceful_restart,  // SIGUSR1 or recycling: finish running work, however long it takes
  graceful_stop,     // SIGWINCH: finish running work within GracefulShutdownTimeout
};

// Accepts on every listener of the server while may_accept() holds, handing each new socket to
// on_accept. Accepts without blocking, so when several children wait on one socket the losers
// just wait again. All on one io_context thread.
class ChildListeners {
 public:
  using AcceptFn = std::function<void(asio::ip::tcp::socket, const BoundListener&)>;
  ChildListeners(asio::io_context& io, const Server& server, AcceptFn on_accept,
                 std::function<bool()> may_accept);
  ~ChildListeners();
  // Starts the accept loops.
  void start();
  // may_accept() may have turned true: waiting loops look again.
  void wake();
  // Stops accepting and closes this child's copies of the listening sockets.
  void close();

 private:
  Task<void> accept_loop(std::size_t index);

  asio::io_context& io_;
  const Server& server_;
  AcceptFn on_accept_;
  std::function<bool()> may_accept_;
  std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> acceptors_;
  asio::steady_timer gate_;
  bool closed_ = false;
};

// The child's half of the control protocol: marks its scoreboard row, turns SIGTERM, SIGUSR1 and
// SIGWINCH into a StopMode handed to on_stop (once per signal; a later, harsher one may follow),
// ignores SIGHUP and SIGINT (the control process decides), and flushes the access log every second.
class ChildControl {
 public:
  ChildControl(asio::io_context& io, ChildContext& child, std::function<void(StopMode)> on_stop);
  ~ChildControl();
  // Marks the child as serving in the scoreboard and starts waiting for signals.
  void start();
  // Counts an accepted connection; true when MaxConnectionsPerChild is reached (the caller then
  // stops gracefully and the control process starts a fresh child).
  bool count_connection();
  // How long running work may go on for a stop mode (max() for a graceful restart).
  std::chrono::milliseconds grace(StopMode mode) const;
  // Polls live() until it reaches zero or the grace of mode has passed, then calls done().
  void finish_when_idle(StopMode mode, std::function<std::size_t()> live,
                        std::function<void()> done);
  ChildScore& score() const;

 private:
  void wait_for_signal();
  Task<void> flush_logs();
  Task<void> poll_until_idle(std::chrono::steady_clock::time_point deadline,
                             std::function<std::size_t()> live, std::function<void()> done);

  asio::io_context& io_;
  ChildContext& child_;
  std::function<void(StopMode)> on_stop_;
  asio::signal_set signals_;
  asio::steady_timer flush_timer_;
  std::uint64_t connections_ = 0;
};

}  // namespace collage
