#include "collage/child.h"

#include <signal.h>
#include <unistd.h>

#include "collage/generation.h"
#include "collage/log.h"
#include "collage/scoreboard.h"

namespace collage {

using namespace std::chrono_literals;

namespace {
constexpr int kAcceptBatch = 16;
}  // namespace

ChildListeners::ChildListeners(asio::io_context& io, const Server& server, AcceptFn on_accept,
                               std::function<bool()> may_accept)
    : io_(io),
      server_(server),
      on_accept_(std::move(on_accept)),
      may_accept_(std::move(may_accept)),
      gate_(io) {}

ChildListeners::~ChildListeners() {
  close();
}

void ChildListeners::start() {
  for (const BoundListener& bound : server_.listeners()) {
    auto acceptor =
        std::make_unique<asio::ip::tcp::acceptor>(io_, bound.endpoint.protocol(), ::dup(bound.fd));
    acceptor->non_blocking(true);
    acceptors_.push_back(std::move(acceptor));
  }
  for (std::size_t i = 0; i < acceptors_.size(); ++i) {
    asio::co_spawn(io_, accept_loop(i), asio::detached);
  }
}

void ChildListeners::wake() {
  gate_.cancel();
}

void ChildListeners::close() {
  if (closed_) {
    return;
  }
  closed_ = true;
  gate_.cancel();
  for (auto& acceptor : acceptors_) {
    asio::error_code ignored;
    acceptor->close(ignored);
  }
}

Task<void> ChildListeners::accept_loop(std::size_t index) {
  asio::ip::tcp::acceptor& acceptor = *acceptors_[index];
  const BoundListener& bound = server_.listeners()[index];
  asio::steady_timer backoff(io_);
  while (!closed_) {
    if (!may_accept_()) {
      gate_.expires_at(asio::steady_timer::time_point::max());
      co_await gate_.async_wait(kAsTuple);
      continue;
    }
    auto [wait_ec] = co_await acceptor.async_wait(asio::socket_base::wait_read, kAsTuple);
    if (closed_ || wait_ec == asio::error::operation_aborted) {
      co_return;
    }
    // Take what is queued (a few at a time, so siblings get their share) before waiting again:
    // each wait costs an epoll round and an epoll_ctl.
    asio::error_code ec;
    for (int taken = 0; taken < kAcceptBatch && !closed_ && may_accept_(); ++taken) {
      asio::ip::tcp::socket socket(io_);
      asio::ip::tcp::endpoint peer;
      acceptor.accept(socket, peer, ec);
      if (ec) {
        break;  // would_block: the queue is empty, or another child took it
      }
      on_accept_(std::move(socket), bound, peer);
    }
    if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
      // Out of descriptors or memory: say so and back off rather than spin.
      if (accept_failures_ != nullptr) {
        accept_failures_->fetch_add(1, std::memory_order_relaxed);
      }
      COLLAGE_LOG(LogLevel::error, "COL-MPM-0001", "accept failed: {}", ec.message());
      backoff.expires_after(100ms);
      co_await backoff.async_wait(kAsTuple);
    }
  }
}

ChildControl::ChildControl(asio::io_context& io, ChildContext& child, ChildListeners& listeners,
                           ChildHooks hooks)
    : io_(io),
      child_(child),
      listeners_(listeners),
      hooks_(std::move(hooks)),
      signals_(io, SIGTERM, SIGUSR1, SIGWINCH),
      flush_timer_(io) {
  // The control process alone decides what a terminal's ^C or a HUP means for the children.
  ::signal(SIGINT, SIG_IGN);
  ::signal(SIGHUP, SIG_IGN);
  listeners_.count_failures_in(score().accept_failures);
  set_metrics_child(child_.slot);
}

ChildControl::~ChildControl() {
  // The child is done: what its connections logged since the last flush goes out now.
  child_.server.generation()->flush_request_logs();
}

ChildScore& ChildControl::score() const {
  return child_.scoreboard.child(child_.slot);
}

void ChildControl::start() {
  score().status = ChildStatus::serving;
  wait_for_signal();
  // The control process forks with these blocked so none arrives before the handlers exist.
  sigset_t stops;
  sigemptyset(&stops);
  for (int signal : {SIGTERM, SIGUSR1, SIGWINCH, SIGHUP, SIGINT, SIGCHLD}) {
    sigaddset(&stops, signal);
  }
  ::pthread_sigmask(SIG_UNBLOCK, &stops, nullptr);
  asio::co_spawn(io_, flush_logs(), asio::detached);
}

void ChildControl::wait_for_signal() {
  signals_.async_wait([this](const asio::error_code& ec, int signal) {
    if (ec) {
      return;
    }
    stop(signal == SIGTERM    ? StopMode::immediate
         : signal == SIGWINCH ? StopMode::graceful_stop
                              : StopMode::graceful_restart);
    wait_for_signal();
  });
}

void ChildControl::connection_accepted() {
  score().accepted.fetch_add(1, std::memory_order_relaxed);
  ++connections_;
  if (child_.max_connections != 0 && connections_ >= child_.max_connections) {
    stop(StopMode::recycle);
  }
}

void ChildControl::stop(StopMode mode) {
  if (stopping_ != StopMode::none && mode != StopMode::immediate) {
    return;
  }
  // The control process marks a child it stops for having too many idle ones before it signals.
  const bool spare = mode == StopMode::graceful_restart && score().status == ChildStatus::stopping;
  stopping_ = mode;
  score().status = ChildStatus::stopping;
  COLLAGE_LOG(LogLevel::info, "COL-MPM-0003", "child {} stopping ({}): {} connection(s) open",
              ::getpid(),
              mode == StopMode::immediate       ? "stop"
              : mode == StopMode::graceful_stop ? "graceful stop"
              : mode == StopMode::recycle       ? "MaxConnectionsPerChild reached"
              : spare                           ? "more idle workers than MaxSpareThreads"
                                                : "graceful restart",
              hooks_.live());
  listeners_.close();
  child_.server.close_listeners();
  if (mode != StopMode::recycle) {
    hooks_.drain();
  }
  auto deadline = std::chrono::steady_clock::time_point::max();
  if (mode == StopMode::immediate) {
    deadline = std::chrono::steady_clock::now() + 250ms;  // time for a GOAWAY or a last reply
  } else if (mode == StopMode::graceful_stop) {
    deadline = std::chrono::steady_clock::now() +
               child_.server.generation()->settings().graceful_shutdown_timeout;
  }
  asio::co_spawn(io_, finish_when_idle(deadline), asio::detached);
}

Task<void> ChildControl::finish_when_idle(std::chrono::steady_clock::time_point deadline) {
  asio::steady_timer timer(io_);
  while (hooks_.live() > 0 && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(20ms);
    co_await timer.async_wait(kAsTuple);
  }
  if (const std::size_t left = hooks_.live(); left > 0) {
    COLLAGE_LOG(LogLevel::warn, "COL-MPM-0002", "closing {} connection(s) still running", left);
  }
  hooks_.finished();
}

Task<void> ChildControl::flush_logs() {
  for (;;) {
    flush_timer_.expires_after(1s);
    auto [ec] = co_await flush_timer_.async_wait(kAsTuple);
    child_.server.generation()->flush_request_logs();
    if (Metrics* metrics = running_metrics()) {
      metrics->sample_history(wall_clock_ms());
    }
    if (ec) {
      co_return;
    }
  }
}

}  // namespace collage
