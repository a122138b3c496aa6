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

}  // namespace collage::status
