#pragma once
// One timer per connection that enforces the deadline of whatever the connection is doing now.
// Moving the deadline later costs nothing (the timer fires, sees the new deadline and re-arms);
// moving it earlier re-arms the timer at once. Run it next to the connection's session with
// Asio's `||` so it is cancelled when the session ends.

#include <chrono>
#include <functional>

#include "collage/asio.h"

namespace collage {

class Watchdog {
 public:
  using Clock = std::chrono::steady_clock;

  // on_expiry is called when the deadline passes: true ends the watch (the caller has closed the
  // connection), false keeps watching (on_expiry moved the deadline).
  Watchdog(const asio::any_io_executor& executor, std::function<bool()> on_expiry)
      : timer_(executor), on_expiry_(std::move(on_expiry)) {}

  void set_deadline(Clock::time_point deadline);
  Clock::time_point deadline() const { return deadline_; }

  // Watches until on_expiry says the connection is closed; ends quietly when cancelled.
  Task<void> run();

 private:
  asio::steady_timer timer_;
  std::function<bool()> on_expiry_;
  Clock::time_point deadline_ = Clock::time_point::max();
};

}  // namespace collage
