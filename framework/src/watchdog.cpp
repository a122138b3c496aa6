#include "collage/watchdog.h"

namespace collage {

void Watchdog::set_deadline(Clock::time_point deadline) {
  const bool earlier = deadline < deadline_;
  deadline_ = deadline;
  if (earlier) {
    timer_.expires_at(deadline_);  // cancels the pending wait; run() re-arms for the nearer time
  }
}

Task<void> Watchdog::run() {
  for (;;) {
    timer_.expires_at(deadline_);
    auto [ec] = co_await timer_.async_wait(kAsTuple);
    if (ec == asio::error::operation_aborted) {
      const auto state = co_await asio::this_coro::cancellation_state;
      if (state.cancelled() != asio::cancellation_type::none) {
        co_return;  // the session ended first
      }
      continue;  // re-armed by set_deadline()
    }
    if (Clock::now() >= deadline_ && on_expiry_()) {
      co_return;
    }
  }
}

}  // namespace collage
