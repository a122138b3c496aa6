#include "collage/watchdog.h"

namespace collage {

Watchdog::Watchdog(const asio::any_io_executor& executor, std::function<bool()> on_expiry)
    : core_(std::make_shared<Core>(executor, std::move(on_expiry))) {}

Watchdog::~Watchdog() {
  stop();
}

void Watchdog::set_deadline(Clock::time_point deadline) {
  const bool earlier = deadline < core_->deadline;
  core_->deadline = deadline;
  if (earlier) {
    core_->timer.expires_at(deadline);  // cancels the pending wait, which re-arms for this time
  }
}

void Watchdog::start() {
  core_->watching = true;
  arm(core_);
}

void Watchdog::stop() {
  if (core_->watching) {
    core_->watching = false;
    core_->on_expiry = nullptr;  // it points into the connection, which may be going away
    core_->timer.cancel();
  }
}

void Watchdog::arm(const std::shared_ptr<Core>& core) {
  core->timer.expires_at(core->deadline);
  core->timer.async_wait([core](const asio::error_code& ec) {
    if (!core->watching) {
      return;
    }
    if (ec != asio::error::operation_aborted && Clock::now() >= core->deadline &&
        core->on_expiry()) {
      core->watching = false;
      return;
    }
    arm(core);  // re-armed by set_deadline(), or the deadline moved later
  });
}

Task<void> Watchdog::run() {
  for (;;) {
    core_->timer.expires_at(core_->deadline);
    auto [ec] = co_await core_->timer.async_wait(kAsTuple);
    if (ec == asio::error::operation_aborted) {
      const auto state = co_await asio::this_coro::cancellation_state;
      if (state.cancelled() != asio::cancellation_type::none) {
        co_return;  // the session ended first
      }
      continue;  // re-armed by set_deadline()
    }
    if (Clock::now() >= core_->deadline && core_->on_expiry()) {
      co_return;
    }
  }
}

}  // namespace collage
