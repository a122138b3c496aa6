// The event MPM: per child, one event thread owns the listeners and every connection's socket
// I/O (idle keep-alive connections cost a small object and no thread); work that may block goes
// to a pool of ThreadsPerChild workers. AsyncRequestWorkerFactor bounds how many connections with
// a request in progress a child takes on before it leaves new ones to its siblings (if it has any).

#include <asio/thread_pool.hpp>

#include "collage/child.h"
#include "collage/log.h"
#include "collage/registry.h"
#include "collage/scoreboard.h"
#include "collage/server.h"

namespace collage::event {
namespace {

struct EventConfig {
  std::uint32_t async_request_worker_factor = 2;
};

const Directive kDirectives[] = {
    {.name = "AsyncRequestWorkerFactor",
     .type = ArgType::integer,
     .contexts = kServerContext,
     .default_value = "2",
     .help = "A child leaves new connections to its siblings while ThreadsPerChild times this "
             "many of its connections have a request in progress (idle keep-alive connections "
             "do not count); a child with no sibling always accepts.",
     .min = 1,
     .max = 1000,
     .field = bind<&EventConfig::async_request_worker_factor>()},
};

class EventMpm final : public Mpm {
 public:
  EventMpm(ProcessPlan plan, std::uint32_t factor) : plan_(plan), factor_(factor) {}

  std::string_view name() const override { return "event"; }
  ProcessPlan plan() const override { return plan_; }

  int run_child(ChildContext& child) override {
    // Declared before the io_context: connections still suspended when it is destroyed
    // unregister from the tracker in their destructors.
    ConnectionTracker tracker;
    asio::thread_pool pool(plan_.threads_per_child);
    Services services(pool.get_executor(), tracker);
    asio::io_context io(1);
    Server& server = child.server;
    ChildScore& row = child.scoreboard.child(child.slot);

    // Slots show the first thread_limit connections in detail; the row counts them all.
    std::vector<WorkerScore*> slots;
    for (std::uint32_t t = child.scoreboard.threads(); t-- > 0;) {
      child.scoreboard.worker(child.slot, t).state = WorkerState::ready;
      slots.push_back(&child.scoreboard.worker(child.slot, t));
    }
    services.set_scoreboard(&row, std::move(slots));

    const std::uint32_t busy_limit = plan_.threads_per_child * factor_;
    auto has_sibling = [&] {
      for (std::uint32_t i = 0; i < child.scoreboard.servers(); ++i) {
        const ChildScore& other = child.scoreboard.child(i);
        if (i != child.slot && other.status == ChildStatus::serving &&
            other.generation == child.generation) {
          return true;
        }
      }
      return false;
    };
    std::unique_ptr<ChildControl> control;
    asio::steady_timer recheck(io);
    bool rechecking = false;
    bool at_limit = false;
    ChildListeners listeners(
        io, server,
        [&](asio::ip::tcp::socket socket, const BoundListener& bound,
            const asio::ip::tcp::endpoint& peer) {
          server.start_connection(std::move(socket), bound, services, peer);
          control->connection_accepted();
        },
        [&] {
          const std::uint32_t busy = row.busy.load(std::memory_order_relaxed);
          if (busy < busy_limit || !has_sibling()) {
            at_limit = false;
            return true;  // room here, or nobody else to leave the connection to
          }
          if (!at_limit) {
            at_limit = true;  // logged and counted once each time the child fills up
            row.full.fetch_add(1, std::memory_order_relaxed);
            COLLAGE_LOG(LogLevel::warn, "COL-EVENT-0005",
                        "child {} has {} requests in progress (ThreadsPerChild x "
                        "AsyncRequestWorkerFactor); new connections go to its siblings",
                        ::getpid(), busy);
          }
          // Finishing requests do not wake the listeners; a short timer looks again while full.
          if (!rechecking) {
            rechecking = true;
            recheck.expires_after(std::chrono::milliseconds(10));
            recheck.async_wait([&](const asio::error_code&) {
              rechecking = false;
              listeners.wake();
            });
          }
          return false;
        });
    control = std::make_unique<ChildControl>(io, child, listeners,
                                             ChildHooks{.drain = [&] { tracker.drain_all(); },
                                                        .live = [&] { return tracker.size(); },
                                                        .finished = [&] { io.stop(); }});

    listeners.start();
    control->start();
    COLLAGE_LOG(LogLevel::notice, "COL-EVENT-0003",
                "event MPM child {} ready: 1 event thread, {} workers", ::getpid(),
                plan_.threads_per_child);
    io.run();
    pool.join();
    COLLAGE_LOG(LogLevel::info, "COL-EVENT-0004", "child {} stopped", ::getpid());
    return 0;
  }

 private:
  ProcessPlan plan_;
  std::uint32_t factor_;
};

}  // namespace

void register_module(Registry& registry) {
  registry.add_module({"event", ModuleKind::mpm, "event MPM: one event thread plus workers"},
                      kDirectives);
  registry.add_mpm("event", [](const Scope& server, ConfigErrors& errors) -> std::unique_ptr<Mpm> {
    ProcessPlan plan;
    if (!threaded_plan(server, errors, plan)) {
      return nullptr;
    }
    plan.connection_holds_worker = false;
    return std::make_unique<EventMpm>(
        plan, server.read<EventConfig>(kDirectives).async_request_worker_factor);
  });
}

}  // namespace collage::event
