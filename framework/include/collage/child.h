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
  recycle,           // MaxConnectionsPerChild: stop accepting, let open connections end
};

// Accepts on every listener of the server while may_accept() holds, handing each new socket to
// on_accept. Accepts without blocking, so when several children wait on one socket the losers
// just wait again. All on one io_context thread.
class ChildListeners {
 public:
  // The accepted socket, its listener and the client's address (as accept() returned it).
  using AcceptFn = std::function<void(asio::ip::tcp::socket, const BoundListener&,
                                      const asio::ip::tcp::endpoint& peer)>;
  ChildListeners(asio::io_context& io, const Server& server, AcceptFn on_accept,
                 std::function<bool()> may_accept);
  ~ChildListeners();
  // Starts the accept loops.
  void start();
  // may_accept() may have turned true: waiting loops look again.
  void wake();
  // Stops accepting and closes this child's copies of the listening sockets.
  void close();
  // Where failed accept() calls are counted (the child's scoreboard row).
  void count_failures_in(std::atomic<std::uint64_t>& counter) { accept_failures_ = &counter; }

 private:
  Task<void> accept_loop(std::size_t index);

  asio::io_context& io_;
  const Server& server_;
  AcceptFn on_accept_;
  std::function<bool()> may_accept_;
  std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> acceptors_;
  asio::steady_timer gate_;
  std::atomic<std::uint64_t>* accept_failures_ = nullptr;
  bool closed_ = false;
};

// What ChildControl needs from the MPM to stop a child.
struct ChildHooks {
  std::function<void()> drain;        // asks every connection to finish (on its own thread)
  std::function<std::size_t()> live;  // connections still open
  std::function<void()> finished;     // stops the child's event loops
};

// The child's half of the control protocol: marks its scoreboard row, turns SIGTERM, SIGUSR1 and
// SIGWINCH into a stop of the matching mode (a later, harsher signal may follow a gentler one),
// ignores SIGHUP and SIGINT (the control process decides), recycles the child after
// MaxConnectionsPerChild connections, and flushes the access log every second.
class ChildControl {
 public:
  ChildControl(asio::io_context& io, ChildContext& child, ChildListeners& listeners,
               ChildHooks hooks);
  // Flushes the access log: destroy it once the child's connections are gone.
  ~ChildControl();
  // Marks the child as serving in the scoreboard and starts waiting for signals.
  void start();
  // Counts an accepted connection. At MaxConnectionsPerChild the child stops accepting and exits
  // once its connections are done; the control process starts a fresh one.
  void connection_accepted();
  ChildScore& score() const;

 private:
  void wait_for_signal();
  void stop(StopMode mode);
  Task<void> flush_logs();
  Task<void> finish_when_idle(std::chrono::steady_clock::time_point deadline);

  asio::io_context& io_;
  ChildContext& child_;
  ChildListeners& listeners_;
  ChildHooks hooks_;
  asio::signal_set signals_;
  asio::steady_timer flush_timer_;
  std::uint64_t connections_ = 0;
  StopMode stopping_ = StopMode::none;
};

}  // namespace collage
