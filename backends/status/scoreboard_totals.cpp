#include "scoreboard_totals.h"

namespace collage::status {

bool worker_is_busy(WorkerState state) {
  return state != WorkerState::open && state != WorkerState::ready &&
         state != WorkerState::starting;
}

Totals add_up(const Scoreboard& board) {
  Totals t;
  const ScoreboardGlobal& global = board.global();
  t.requests = global.requests_of_exited;
  t.bytes = global.bytes_of_exited;
  t.accepted = global.accepted_of_exited;
  t.accept_failures = global.accept_failures_of_exited;
  t.refused = global.refused_of_exited;
  t.full = global.full_of_exited;
  for (std::uint32_t row = 0; row < board.servers(); ++row) {
    const ChildScore& child = board.child(row);
    const ChildStatus status = child.status;
    if (status != ChildStatus::empty) {
      ++t.processes;
      t.stopping += status == ChildStatus::stopping ? 1 : 0;
      t.requests += child.requests;
      t.bytes += child.bytes;
      t.accepted += child.accepted;
      t.accept_failures += child.accept_failures;
      t.refused += child.refused;
      t.full += child.full;
      t.connections += child.connections;
      t.keepalive += child.keepalive;
      t.busy += child.busy;
    }
    for (std::uint32_t slot = 0; slot < board.threads(); ++slot) {
      WorkerState state = board.worker(row, slot).state;
      if (status == ChildStatus::empty) {
        state = WorkerState::open;
      } else if (status == ChildStatus::stopping && worker_is_busy(state)) {
        state = WorkerState::finishing;
      }
      if (state == WorkerState::ready) {
        ++t.idle_workers;
      } else if (worker_is_busy(state)) {
        ++t.busy_workers;
      }
      t.letters += state_letter(state);
    }
  }
  return t;
}

}  // namespace collage::status
