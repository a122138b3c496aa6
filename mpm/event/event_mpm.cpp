// The event MPM: one event thread owns the listeners and every connection's socket I/O (idle
// keep-alive connections cost a small object and no thread); work that may block goes to a pool
// of ThreadsPerChild workers. Single process for now; the control process comes with issue #5.

#include <signal.h>
#include <unistd.h>

#include <asio/signal_set.hpp>
#include <asio/thread_pool.hpp>
#include <chrono>

#include "collage/log.h"
#include "collage/registry.h"
#include "collage/server.h"

namespace collage::event {
namespace {

const Directive kDirectives[] = {
    {.name = "ThreadsPerChild",
     .type = ArgType::integer,
     .default_value = "4",
     .help = "Worker threads for blocking work (directory listings, CGI, databases).",
     .min = 1,
     .max = 1024},
};

using namespace std::chrono_literals;

Task<void> accept_loop(asio::ip::tcp::acceptor& acceptor, const BoundListener& bound,
                       const Server& server, Services& services) {
  asio::steady_timer backoff(acceptor.get_executor());
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(kAsTuple);
    if (!acceptor.is_open() || ec == asio::error::operation_aborted) {
      co_return;
    }
    if (ec) {
      // Out of descriptors or memory: say so and back off rather than spin.
      COLLAGE_LOG(LogLevel::error, "COL-EVENT-0001", "accept failed: {}", ec.message());
      backoff.expires_after(100ms);
      co_await backoff.async_wait(kAsTuple);
      continue;
    }
    server.start_connection(std::move(socket), bound, services);
  }
}

Task<void> flush_logs_every_second(const Generation& generation) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(1s);
    auto [ec] = co_await timer.async_wait(kAsTuple);
    if (generation.access_log() != nullptr) {
      generation.access_log()->flush();
    }
    if (ec) {
      co_return;
    }
  }
}

class EventMpm final : public Mpm {
 public:
  explicit EventMpm(int threads) : threads_(threads) {}

  int run(Server& server) override {
    // Declared before the io_context: connections still suspended when it is destroyed
    // unregister from the tracker in their destructors.
    ConnectionTracker tracker;
    asio::thread_pool pool(static_cast<std::size_t>(threads_));
    Services services(pool.get_executor(), tracker);
    asio::io_context io(1);
    const Generation& generation = *server.generation();

    std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> acceptors;
    for (const BoundListener& bound : server.listeners()) {
      auto acceptor =
          std::make_unique<asio::ip::tcp::acceptor>(io, bound.endpoint.protocol(), ::dup(bound.fd));
      asio::co_spawn(io, accept_loop(*acceptor, bound, server, services), asio::detached);
      acceptors.push_back(std::move(acceptor));
    }
    asio::co_spawn(io, flush_logs_every_second(generation), asio::detached);

    asio::signal_set signals(io, SIGTERM, SIGINT);
    const auto grace = generation.server_scope().duration("GracefulShutdownTimeout");
    signals.async_wait([&](const asio::error_code& ec, int signal) {
      if (ec) {
        return;
      }
      COLLAGE_LOG(LogLevel::notice, "COL-EVENT-0002",
                  "signal {} received: stopping, letting {} connection(s) finish", signal,
                  tracker.size());
      for (auto& acceptor : acceptors) {
        asio::error_code ignored;
        acceptor->close(ignored);
      }
      tracker.drain_all();
      asio::co_spawn(io, wait_then_stop(io, tracker, grace), asio::detached);
    });

    COLLAGE_LOG(LogLevel::notice, "COL-EVENT-0003", "event MPM ready: 1 event thread, {} workers",
                threads_);
    io.run();
    pool.join();
    if (generation.access_log() != nullptr) {
      generation.access_log()->flush();
    }
    COLLAGE_LOG(LogLevel::notice, "COL-EVENT-0004", "stopped");
    return 0;
  }

 private:
  static Task<void> wait_then_stop(asio::io_context& io, ConnectionTracker& tracker,
                                   std::chrono::milliseconds grace) {
    asio::steady_timer timer(io);
    const auto deadline = std::chrono::steady_clock::now() + grace;
    while (tracker.size() > 0 && std::chrono::steady_clock::now() < deadline) {
      timer.expires_after(20ms);
      co_await timer.async_wait(kAsTuple);
    }
    if (tracker.size() > 0) {
      COLLAGE_LOG(LogLevel::warn, "COL-EVENT-0005",
                  "GracefulShutdownTimeout passed: closing {} connection(s)", tracker.size());
    }
    io.stop();
  }

  int threads_;
};

}  // namespace

void register_module(Registry& registry) {
  registry.add_module({"event", ModuleKind::mpm, "event MPM: one event thread plus workers"},
                      kDirectives);
  registry.add_mpm("event", [](const Scope& server, ConfigErrors&) -> std::unique_ptr<Mpm> {
    return std::make_unique<EventMpm>(static_cast<int>(server.integer("ThreadsPerChild")));
  });
}

}  // namespace collage::event
