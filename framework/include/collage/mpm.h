#pragma once
// A multi-processing module decides how processes and threads carry connections. Exactly one runs
// per server. The control process (mpm/control) owns the listeners, the scoreboard and the
// children; the MPM says how big the pool is and what a child does. Protocol code never asks
// which MPM runs it.

#include <cstdint>
#include <string_view>

namespace collage {

class Server;
class Scoreboard;
class Scope;
class ConfigErrors;

// How the control process sizes and tends the pool, read from the configuration once per
// generation.
struct ProcessPlan {
  std::uint32_t start_servers = 1;
  std::uint32_t server_limit = 16;         // scoreboard rows (children alive at once, old and new)
  std::uint32_t threads_per_child = 1;     // worker slots each child uses
  std::uint32_t thread_limit = 1;          // scoreboard slots per row
  std::uint32_t max_request_workers = 16;  // cap on threads_per_child x serving children
  // Spare capacity kept between these, counted in idle worker slots across serving children.
  std::uint32_t min_spare = 0;
  std::uint32_t max_spare = 0;
  std::uint64_t max_connections_per_child = 0;  // 0: children are never recycled
  // Whether an open connection holds a worker for its whole life (worker, prefork) or only
  // while a request is in progress (event): decides what counts as an idle worker.
  bool connection_holds_worker = true;
};

// Fills plan from the process directives every MPM shares (StartServers, ServerLimit,
// MaxRequestWorkers, MaxConnectionsPerChild, User, Group); false after reporting errors.
bool read_common_plan(const Scope& server, ConfigErrors& errors, ProcessPlan& plan);
// The above plus ThreadsPerChild, ThreadLimit and Min/MaxSpareThreads, for threaded MPMs.
bool threaded_plan(const Scope& server, ConfigErrors& errors, ProcessPlan& plan);

// What a forked child gets: the server (generation and inherited listening sockets), its
// scoreboard row and the generation number it belongs to.
struct ChildContext {
  Server& server;
  Scoreboard& scoreboard;
  std::uint32_t slot = 0;
  std::uint32_t generation = 0;
  std::uint64_t max_connections = 0;  // stop accepting and exit gracefully after this many
};

class Mpm {
 public:
  virtual ~Mpm() = default;
  virtual std::string_view name() const = 0;
  virtual ProcessPlan plan() const = 0;
  // Runs in a freshly forked child until it is told to stop, then returns the exit status.
  // Signals, set up by the child: SIGTERM stops at once (running responses are cut short);
  // SIGUSR1 stops accepting and exits once running work is done (graceful restart); SIGWINCH
  // does the same but waits at most GracefulShutdownTimeout (graceful stop).
  virtual int run_child(ChildContext& child) = 0;
};

}  // namespace collage
