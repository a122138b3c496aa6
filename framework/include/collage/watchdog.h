#pragma once
// One timer per connection that enforces the deadline of whatever the connection is doing now.
// Moving the deadline later costs nothing (the timer fires, sees the new deadline and re-arms);
// moving it earlier re-arms the timer at once.
//
// Two ways to run it. start()/stop(): a plain timer callback, no coroutine; on_expiry must then
// end the session itself (closing the socket does). run(): a coroutine to put next to the
// session with Asio's `||`, which cancels the session when the watch ends.

#include <chrono>
#include <functional>
#include <memory>

#include "collage/asio.h"

namespace collage {

class Watchdog {
 public:
  using Clock = std::chrono::steady_clock;

  // on_expiry is called on the executor when the deadline passes: true ends the watch (the
  // caller has closed the connection), false keeps watching (on_expiry moved the deadline).
  Watchdog(const asio::any_io_executor& executor, std::function<bool()> on_expiry);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  void set_deadline(Clock::time_point deadline);
  Clock::time_point deadline() const { return core_->deadline; }

  // Callback mode: watches until stop(), destruction or on_expiry returning true.
  void start();
  void stop();

  // Coroutine mode: watches until on_expiry says the connection is closed; ends quietly when
  // cancelled.
  Task<void> run();

 private:
  // Shared with the pending timer handler, which may run after the Watchdog is gone.
  struct Core {
    Core(const asio::any_io_executor& executor, std::function<bool()> expiry)
        : timer(executor), on_expiry(std::move(expiry)) {}
    asio::steady_timer timer;
    std::function<bool()> on_expiry;
    Clock::time_point deadline = Clock::time_point::max();
    bool watching = false;  // callback mode is on
  };
  static void arm(const std::shared_ptr<Core>& core);

  std::shared_ptr<Core> core_;
};

}  // namespace collage
