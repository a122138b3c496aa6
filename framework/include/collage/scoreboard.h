#pragma once
// The scoreboard: shared memory that the control process creates before forking, so every child
// writes its own row and the status store (in any child) reads them all. Plain atomics only: a
// child that dies mid-write leaves at worst one stale field, never a lock held.

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "collage/metrics.h"

namespace collage {

// One worker slot's state, as mod_status shows it.
enum class WorkerState : std::uint8_t {
  open,       // '.' no thread or connection in this slot
  starting,   // 'S'
  ready,      // '_' waiting for a connection
  reading,    // 'R' reading a request
  writing,    // 'W' processing or sending the reply
  keepalive,  // 'K' waiting for the next request on an open connection
  closing,    // 'C' closing the connection
  logging,    // 'L' writing the access log
  finishing,  // 'G' finishing its work while the child stops gracefully
};
char state_letter(WorkerState state);
std::string_view state_name(WorkerState state);

struct WorkerScore {
  std::atomic<WorkerState> state{WorkerState::open};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<std::int64_t> changed_ms{0};  // wall clock of the last state change
  // The last request and its client; written by the slot's owner, read by the status page.
  // Readers may see a torn line while it is rewritten, which a status page can live with.
  char client[48] = {};
  char request[128] = {};
};

enum class ChildStatus : std::uint8_t { empty, starting, serving, stopping };

// One child's share of the server-wide counts by key (a hash of, say, "ftp 192.0.2.7"):
// connections open and requests this second, so caps and rates count across children. An
// open-addressing hash table under a spin lock that any child totalling a key takes (and may
// clear idle entries under); only the owner adds. It is cleared with the row when the child
// goes, so a crash leaks no counts. No member initializers: the table lies in fresh (zero)
// shared memory, and leaving it alone keeps its pages unmapped until a key lands there.
struct KeyedEntry {
  std::uint64_t key;     // 0: a free slot
  std::uint32_t count;   // connections open under this key
  std::uint32_t window;  // the second (CLOCK_MONOTONIC_COARSE) hits count in
  std::uint32_t hits;    // requests in that second
};

struct KeyedCounts {
  static constexpr std::size_t kSize = 2048;  // a power of two
  std::atomic_flag lock = ATOMIC_FLAG_INIT;
  std::uint32_t used = 0;
  KeyedEntry entries[kSize];
};

struct ChildScore {
  std::atomic<pid_t> pid{0};
  std::atomic<std::uint32_t> generation{0};
  std::atomic<ChildStatus> status{ChildStatus::empty};
  std::atomic<std::uint32_t> connections{0};  // open connections
  std::atomic<std::uint32_t> busy{0};       // connections serving a request (not waiting for bytes)
  std::atomic<std::uint32_t> keepalive{0};  // connections waiting for their next request
  std::atomic<std::uint64_t> accepted{0};
  std::atomic<std::uint64_t> requests{0};
  std::atomic<std::uint64_t> bytes{0};
  std::atomic<std::int64_t> started_ms{0};
  // Limits that bit: accept() failures (out of descriptors or memory), connections refused by a
  // cap (FTP's per-server and per-address limits), times the child stopped accepting because it
  // was full (event: ThreadsPerChild x AsyncRequestWorkerFactor requests in progress).
  std::atomic<std::uint64_t> accept_failures{0};
  std::atomic<std::uint64_t> refused{0};
  std::atomic<std::uint64_t> full{0};
  std::atomic<std::uint32_t> tls_handshakes{0};  // in progress in this child (for retirement)
  KeyedCounts keyed;
};

struct ScoreboardGlobal {
  std::atomic<pid_t> parent{0};
  std::atomic<std::uint32_t> generation{0};
  std::atomic<std::int64_t> started_ms{0};    // when the server started
  std::atomic<std::int64_t> restarted_ms{0};  // when the current generation started
  // Work done by children that have exited, so totals survive recycling.
  std::atomic<std::uint64_t> requests_of_exited{0};
  std::atomic<std::uint64_t> bytes_of_exited{0};
  std::atomic<std::uint64_t> accepted_of_exited{0};
  std::atomic<std::uint64_t> accept_failures_of_exited{0};
  std::atomic<std::uint64_t> refused_of_exited{0};
  std::atomic<std::uint64_t> full_of_exited{0};
  // Times every worker of the server was busy with no child left to add (worker, prefork).
  std::atomic<std::uint64_t> server_full{0};
  // TLS handshakes in progress in every child, and those refused by TLSMaxHandshakes.
  std::atomic<std::uint32_t> tls_handshakes{0};
  std::atomic<std::uint64_t> tls_handshakes_refused{0};
  char mpm[16] = {};
  // Named counters modules share across children (see Scoreboard::shared_counter).
  struct NamedCounter {
    std::atomic<std::uint32_t> state{0};  // 0 free, 1 being claimed, 2 named
    char name[28] = {};
    std::atomic<std::uint64_t> value{0};
  };
  static constexpr std::size_t kNamedCounters = 32;
  NamedCounter counters[kNamedCounters];
};

class Scoreboard {
 public:
  // Maps an anonymous shared region sized for servers x threads slots; null if mmap fails.
  static std::unique_ptr<Scoreboard> create(std::uint32_t servers, std::uint32_t threads);
  ~Scoreboard();
  Scoreboard(const Scoreboard&) = delete;
  Scoreboard& operator=(const Scoreboard&) = delete;

  std::uint32_t servers() const { return servers_; }
  std::uint32_t threads() const { return threads_; }
  ScoreboardGlobal& global() const { return *global_; }
  ChildScore& child(std::uint32_t server) const { return children_[server]; }
  WorkerScore& worker(std::uint32_t server, std::uint32_t thread) const {
    return workers_[server * threads_ + thread];
  }
  // The metrics every child counts into (metrics.h); null if their region could not be mapped.
  Metrics* metrics() const { return metrics_.get(); }
  // Folds a dead child's counters into the global totals and clears its row for reuse.
  void retire_child(std::uint32_t server) const;
  // A counter every child sees, by name (at most 27 bytes, e.g. "files.writes"), claimed on
  // first use, so a module can share state without the framework knowing it. Null when all
  // kNamedCounters are taken.
  std::atomic<std::uint64_t>* shared_counter(std::string_view name) const;

 private:
  Scoreboard() = default;
  void* memory_ = nullptr;
  std::size_t length_ = 0;
  std::uint32_t servers_ = 0;
  std::uint32_t threads_ = 0;
  ScoreboardGlobal* global_ = nullptr;
  ChildScore* children_ = nullptr;
  WorkerScore* workers_ = nullptr;
  std::unique_ptr<Metrics> metrics_;
};

std::int64_t wall_clock_ms();

// The scoreboard of the running server, for the status store; null when none (tests, -t). Set
// once by the control process before it forks.
Scoreboard* running_scoreboard();
void set_running_scoreboard(Scoreboard* board);

// This process's row of the scoreboard (set with the metrics row when a child starts); null
// outside a running server.
ChildScore* current_child_score();

// A server-wide cap on TLS handshakes in progress (limit 0: none). begin_tls_handshake counts
// one more and returns true, or counts a refusal and returns false when limit are running
// already; each true is paired with end_tls_handshake. Without a running server, always true.
bool begin_tls_handshake(std::uint32_t limit);
void end_tls_handshake();

// A server-wide cap on connections: the key names what is counted, the limit how many may be
// open at once across every child.
struct ConnectionCap {
  std::string_view key;
  std::uint32_t limit;
};

enum class CapResult : std::uint8_t {
  admitted,   // counted under every cap; release_connection when it ends
  refused,    // a cap was reached; nothing counted
  uncounted,  // this child's table is full (KeyedCounts::kSize keys): let in without a count
};

// Counts one more connection under every cap, or none and says refused if any would go past its
// limit. row is the calling child's (Services::child_score()); without one (no running server,
// unit tests) counts are kept for this process alone. Two children taking the last place at once
// may both be refused, never both admitted. A full table fails open (and says so once a minute):
// a flood of distinct addresses must not lock everyone out.
CapResult acquire_connection(ChildScore* row, std::span<const ConnectionCap> caps);
void release_connection(ChildScore* row, std::span<const ConnectionCap> caps);

// Counts one request under key in the current second across every child; false when that makes
// more than per_second (the request should be refused). A full table counts nothing (true).
bool within_rate(ChildScore* row, std::string_view key, std::uint32_t per_second);

// What one connection reports. Cheap (relaxed atomic stores) and a no-op where the connection
// has no slot: under the event MPM more connections may be open than a child has slots.
// Used only from the connection's own executor.
class ConnectionScore {
 public:
  ConnectionScore() = default;
  ConnectionScore(ChildScore* child, WorkerScore* worker) : child_(child), worker_(worker) {}
  ConnectionScore(const ConnectionScore&) = delete;
  ConnectionScore& operator=(const ConnectionScore&) = delete;
  ~ConnectionScore();

  void connected();
  // The client's address, shown by the status page.
  void set_client(std::string_view client);
  void set_state(WorkerState state);
  // A request started (reading state) and its first line is known.
  void begin_request(std::string_view request_line);
  // The reply is sent: counts it and its bytes, back to keep-alive.
  void finish_request(std::uint64_t bytes);
  WorkerScore* worker() const { return worker_; }
  // Also counts busy and keep-alive time into these gauges of the shared metrics (this child's
  // row): the connection's states by protocol and listener. Call while the state is reading.
  void count_states_in(int busy_series, int keepalive_series) {
    busy_series_ = busy_series;
    keepalive_series_ = keepalive_series;
  }

 private:
  ChildScore* child_ = nullptr;
  WorkerScore* worker_ = nullptr;
  WorkerState state_ = WorkerState::ready;
  bool counted_ = false;  // counted in child_->connections
  int busy_series_ = -1;
  int keepalive_series_ = -1;
};

}  // namespace collage
