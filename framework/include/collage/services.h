#pragma once
// What a connection may use besides its socket: the executor for blocking work, the connection
// tracker for graceful shutdown, and the logs. One Services per event loop (per child process).

#include <functional>
#include <list>
#include <type_traits>
#include <vector>

#include "collage/asio.h"
#include "collage/log.h"
#include "collage/scoreboard.h"

namespace collage {

// A live connection, told when the server drains: it finishes what it is doing and closes, and
// closes at once if it is idle. Called on the connection's own executor.
class TrackedConnection {
 public:
  virtual ~TrackedConnection() = default;
  virtual void drain() = 0;
};

// Connections of one event loop. Not thread-safe: used only from that loop's thread.
class ConnectionTracker {
 public:
  using Handle = std::list<TrackedConnection*>::iterator;
  Handle add(TrackedConnection* connection);
  void remove(Handle handle);
  // Asks every connection to finish; later arrivals are drained as they register.
  void drain_all();
  bool draining() const { return draining_; }
  std::size_t size() const { return live_.size(); }

 private:
  std::list<TrackedConnection*> live_;
  bool draining_ = false;
};

class Services {
 public:
  Services(asio::any_io_executor blocking, ConnectionTracker& connections)
      : blocking_(std::move(blocking)), connections_(connections) {}

  ConnectionTracker& connections() { return connections_; }

  // The scoreboard row of this child and the worker slots connections of this loop may take
  // (one per thread under worker and prefork; a pool under event). Set once by the MPM.
  void set_scoreboard(ChildScore* child, std::vector<WorkerScore*> slots) {
    child_score_ = child;
    free_slots_ = std::move(slots);
  }
  ChildScore* child_score() const { return child_score_; }
  // A free worker slot for a new connection, or null when every slot is taken.
  WorkerScore* claim_slot() {
    if (free_slots_.empty()) {
      return nullptr;
    }
    WorkerScore* slot = free_slots_.back();
    free_slots_.pop_back();
    return slot;
  }
  void release_slot(WorkerScore* slot) {
    if (slot != nullptr) {
      free_slots_.push_back(slot);
    }
  }

  // Runs fn on the pool for blocking work (disk-heavy reads, CGI, databases) and resumes the
  // calling coroutine on its own executor with the result. fn must not throw. Taken by reference
  // (it lives in the caller's frame): GCC 12 destroys by-value temporaries of co_await twice.
  template <typename Fn>
  Task<std::invoke_result_t<Fn&>> offload(Fn& fn) {
    auto home = co_await asio::this_coro::executor;
    co_await asio::post(blocking_, asio::use_awaitable);
    if constexpr (std::is_void_v<std::invoke_result_t<Fn&>>) {
      fn();
      co_await asio::post(home, asio::use_awaitable);
    } else {
      auto result = fn();
      co_await asio::post(home, asio::use_awaitable);
      co_return result;
    }
  }

 private:
  asio::any_io_executor blocking_;
  ConnectionTracker& connections_;
  ChildScore* child_score_ = nullptr;
  std::vector<WorkerScore*> free_slots_;
};

}  // namespace collage
