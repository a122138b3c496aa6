#pragma once
// The scoreboard added up: what the status page, its JSON and the metrics store all report.

#include <cstdint>
#include <string>

#include "collage/scoreboard.h"

namespace collage::status {

struct Totals {
  std::uint64_t requests = 0;
  std::uint64_t bytes = 0;
  std::uint64_t accepted = 0;
  std::uint32_t processes = 0;
  std::uint32_t stopping = 0;
  std::uint32_t connections = 0;
  std::uint32_t keepalive = 0;
  std::uint32_t busy = 0;  // connections serving a request
  std::uint32_t busy_workers = 0;
  std::uint32_t idle_workers = 0;
  std::uint64_t accept_failures = 0;
  std::uint64_t refused = 0;
  std::uint64_t full = 0;
  std::string letters;  // one per worker slot, rows separated by nothing (as mod_status)
};

bool worker_is_busy(WorkerState state);
Totals add_up(const Scoreboard& board);

// fn(row, child) for each child row in use.
template <typename Fn>
void for_each_child(const Scoreboard& board, Fn fn) {
  for (std::uint32_t row = 0; row < board.servers(); ++row) {
    if (const ChildScore& child = board.child(row); child.status != ChildStatus::empty) {
      fn(row, child);
    }
  }
}

// fn(row, slot, worker) for each worker slot of a child in use that has served something or
// is serving now (a slot never used has nothing to say).
template <typename Fn>
void for_each_used_worker(const Scoreboard& board, Fn fn) {
  for_each_child(board, [&](std::uint32_t row, const ChildScore&) {
    for (std::uint32_t slot = 0; slot < board.threads(); ++slot) {
      const WorkerScore& worker = board.worker(row, slot);
      if (worker.requests != 0 || worker_is_busy(worker.state)) {
        fn(row, slot, worker);
      }
    }
  });
}

}  // namespace collage::status
