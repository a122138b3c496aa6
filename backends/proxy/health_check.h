#pragma once
// Active health checks: each child process asks every upstream server for a path at an interval
// and takes a server out after `fall` wrong answers in a row, back in after `rise` right ones.
// Started by the first request a child's event loop serves; stopped when the loop drains (it
// counts as a connection of the loop, so a graceful stop never waits for it).

#include <chrono>
#include <memory>
#include <string>

#include "balancer.h"
#include "collage/services.h"

namespace collage::proxy {

struct HealthSettings {
  std::string path;  // empty: no active checks
  std::chrono::milliseconds interval{5000};
  int expected_status = 200;
  int rise = 2;
  int fall = 3;
  std::chrono::milliseconds timeout{2000};
};

// Starts the checks of `balancer` on this loop unless this process already runs them.
void start_health_checks(std::shared_ptr<Balancer> balancer, const HealthSettings& settings,
                         Services& services, const asio::any_io_executor& executor);

}  // namespace collage::proxy
