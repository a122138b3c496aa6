// The worker MPM: each child runs ThreadsPerChild threads, and a listener thread hands each
// accepted connection to one idle thread for the connection's whole life. Simple and robust,
// but an idle keep-alive connection holds a thread: with every thread held, new clients wait in
// the listen queue (bench/mpm_bench.py measures it). The event MPM exists to solve that.

#include <thread>

#include "collage/child.h"
#include "collage/log.h"
#include "collage/registry.h"
#include "collage/scoreboard.h"
#include "collage/server.h"

namespace collage::worker {
namespace {

// One worker thread: its own event loop, carrying one connection at a time. Blocking work runs
// inline on it, since the thread belongs to that connection anyway.
struct WorkerThread {
  ConnectionTracker tracker;  // before io: suspended connections unregister as io goes away
  asio::io_context io{1};
  Services services{io.get_executor(), tracker};
  asio::executor_work_guard<asio::io_context::executor_type> keep_running{io.get_executor()};
  std::thread thread;
};

class WorkerMpm final : public Mpm {
 public:
  explicit WorkerMpm(ProcessPlan plan) : plan_(plan) {}

  std::string_view name() const override { return "worker"; }
  ProcessPlan plan() const override { return plan_; }

  int run_child(ChildContext& child) override {
    asio::io_context io(1);  // the listener thread
    Server& server = child.server;
    ChildScore& row = child.scoreboard.child(child.slot);
    std::vector<std::unique_ptr<WorkerThread>> threads;
    std::vector<std::size_t> idle;
    for (std::uint32_t i = 0; i < plan_.threads_per_child; ++i) {
      auto worker = std::make_unique<WorkerThread>();
      WorkerScore& slot = child.scoreboard.worker(child.slot, i);
      slot.state = WorkerState::ready;
      worker->services.set_scoreboard(&row, {&slot});
      worker->thread = std::thread([w = worker.get()] { w->io.run(); });
      threads.push_back(std::move(worker));
      idle.push_back(plan_.threads_per_child - 1 - i);
    }

    std::unique_ptr<ChildControl> control;
    std::unique_ptr<ChildListeners> listeners;
    listeners = std::make_unique<ChildListeners>(
        io, server,
        [&](asio::ip::tcp::socket socket, const BoundListener& bound,
            const asio::ip::tcp::endpoint& peer) {
          const std::size_t index = idle.back();
          idle.pop_back();
          WorkerThread& worker = *threads[index];
          const auto protocol = bound.endpoint.protocol();
          const int fd = socket.release();
          // The connection moves to its thread; when it ends, the thread is idle again.
          asio::post(worker.io, [&server, &bound, &worker, &io, &idle, &listeners, index, protocol,
                                 fd, peer] {
            server.start_connection(asio::ip::tcp::socket(worker.io, protocol, fd), bound,
                                    worker.services, peer, [&io, &idle, &listeners, index] {
                                      asio::post(io, [&idle, &listeners, index] {
                                        idle.push_back(index);
                                        listeners->wake();
                                      });
                                    });
          });
          control->connection_accepted();
        },
        [&] { return !idle.empty(); });
    control = std::make_unique<ChildControl>(
        io, child, *listeners,
        ChildHooks{.drain =
                       [&] {
                         for (auto& worker : threads) {
                           asio::post(worker->io, [w = worker.get()] { w->tracker.drain_all(); });
                         }
                       },
                   .live = [&] { return threads.size() - idle.size(); },
                   .finished = [&] { io.stop(); }});

    listeners->start();
    control->start();
    COLLAGE_LOG(LogLevel::notice, "COL-WORKER-0002", "worker MPM child {} ready: {} threads",
                ::getpid(), plan_.threads_per_child);
    io.run();
    for (auto& worker : threads) {
      worker->keep_running.reset();
      worker->io.stop();  // whatever still runs had its grace
    }
    for (auto& worker : threads) {
      worker->thread.join();
    }
    COLLAGE_LOG(LogLevel::info, "COL-WORKER-0003", "child {} stopped", ::getpid());
    return 0;
  }

 private:
  ProcessPlan plan_;
};

}  // namespace

void register_module(Registry& registry) {
  registry.add_module(
      {"worker", ModuleKind::mpm, "worker MPM: a thread per connection, threads per child"});
  registry.add_mpm("worker", [](const Scope& server, ConfigErrors& errors) -> std::unique_ptr<Mpm> {
    ProcessPlan plan;
    if (!threaded_plan(server, errors, plan)) {
      return nullptr;
    }
    return std::make_unique<WorkerMpm>(plan);
  });
}

}  // namespace collage::worker
