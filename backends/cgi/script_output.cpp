#include "script_output.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>

#include "collage/log.h"
#include "launcher.h"

namespace collage::cgi {
namespace {

// How long a script asked to stop (SIGTERM) has before it is killed, as Apache's mod_cgi.
constexpr std::chrono::seconds kStopGrace{3};

}  // namespace

void ProcessHandle::signal_group(int signal) const {
  if (!reaped.load(std::memory_order_acquire)) {
    signalled.store(true, std::memory_order_relaxed);
    if (launcher != nullptr) {
      launcher->signal_group(pid, signal);
    } else {
      ::kill(-pid, signal);
    }
  }
}

void ProcessHandle::mark_reaped() {
  reaped.store(true, std::memory_order_release);
  if (pending_kill != nullptr) {
    pending_kill->cancel();
    pending_kill.reset();
  }
}

ScriptOutput::ScriptOutput(const asio::any_io_executor& executor, int stdout_fd,
                           std::shared_ptr<ProcessHandle> process,
                           std::chrono::milliseconds timeout)
    : out_(executor, stdout_fd),
      process_(std::move(process)),
      timeout_(timeout),
      watchdog_(executor, [this] {
        timed_out_ = true;
        process_->signal_group(SIGKILL);
        asio::error_code ignored;
        out_.close(ignored);  // the pending read ends with an error
        return true;
      }) {
  watchdog_.start();  // with no deadline until a read sets one
}

ScriptOutput::~ScriptOutput() {
  watchdog_.stop();
  if (ended_ || timed_out_) {
    return;
  }
  if (process_->reaped.load(std::memory_order_acquire)) {
    return;
  }
  process_->signal_group(SIGTERM);
  process_->pending_kill = std::make_shared<asio::steady_timer>(out_.get_executor(), kStopGrace);
  process_->pending_kill->async_wait([process = process_](const asio::error_code& ec) {
    if (!ec) {
      process->signal_group(SIGKILL);
    }
  });
}

void ScriptOutput::abandon() {
  ended_ = true;  // the script may finish what it does; it just has no reader any more
  asio::error_code ignored;
  out_.close(ignored);
}

Task<ReadResult> ScriptOutput::read_some(std::string& into, std::size_t max) {
  const std::size_t before = into.size();
  into.resize(before + max);
  watchdog_.set_deadline(Watchdog::Clock::now() + timeout_);
  auto [ec, n] = co_await out_.async_read_some(asio::buffer(into.data() + before, max), kAsTuple);
  watchdog_.set_deadline(Watchdog::Clock::time_point::max());
  into.resize(before + n);
  if (timed_out_) {
    co_return ReadResult::timed_out;
  }
  if (ec == asio::error::eof) {
    ended_ = true;
    co_return ReadResult::end;
  }
  co_return ec ? ReadResult::failed : ReadResult::data;
}

Task<StreamStatus> ScriptBody::next(Brigade& out, std::size_t limit) {
  if (!first_.empty()) {
    out.append_owned(std::move(first_));
    first_.clear();
    co_return StreamStatus::more;
  }
  std::string part;
  switch (co_await output_->read_some(part, std::min<std::size_t>(limit, 64 * 1024))) {
    case ReadResult::data: out.append_owned(std::move(part)); co_return StreamStatus::more;
    case ReadResult::end: co_return StreamStatus::end;
    case ReadResult::timed_out:
      COLLAGE_LOG(LogLevel::error, "COL-CGI-0006",
                  "{}: printed nothing for too long (CgiTimeout); killed, response cut off",
                  printable(name_));
      co_return StreamStatus::failed;
    case ReadResult::failed: break;
  }
  COLLAGE_LOG(LogLevel::error, "COL-CGI-0007", "{}: reading its output failed", printable(name_));
  co_return StreamStatus::failed;
}

}  // namespace collage::cgi
