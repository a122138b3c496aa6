// The prefork MPM: single-threaded children, each carrying one connection at a time. A crash
// takes down one connection, never the server. The control process keeps between
// MinSpareServers and MaxSpareServers children idle.

#include "collage/child.h"
#include "collage/log.h"
#include "collage/registry.h"
#include "collage/scoreboard.h"
#include "collage/server.h"

namespace collage::prefork {
namespace {

struct PreforkConfig {
  std::uint32_t min_spare_servers = 5;
  std::uint32_t max_spare_servers = 10;
};

const Directive kDirectives[] = {
    {.name = "MinSpareServers",
     .type = ArgType::integer,
     .contexts = kServerContext,
     .default_value = "2",
     .help = "Below this many idle children, more are started.",
     .min = 0,
     .max = 20000,
     .field = bind<&PreforkConfig::min_spare_servers>()},
    {.name = "MaxSpareServers",
     .type = ArgType::integer,
     .contexts = kServerContext,
     .default_value = "5",
     .help = "Above this many idle children, one is stopped gracefully.",
     .min = 1,
     .max = 20000,
     .field = bind<&PreforkConfig::max_spare_servers>()},
};

class PreforkMpm final : public Mpm {
 public:
  explicit PreforkMpm(ProcessPlan plan) : plan_(plan) {}

  std::string_view name() const override { return "prefork"; }
  ProcessPlan plan() const override { return plan_; }

  int run_child(ChildContext& child) override {
    ConnectionTracker tracker;  // before io: suspended connections unregister as io goes away
    asio::io_context io(1);
    Services services(io.get_executor(), tracker);  // blocking work runs inline: one connection
    Server& server = child.server;
    WorkerScore& slot = child.scoreboard.worker(child.slot, 0);
    slot.state = WorkerState::ready;
    services.set_scoreboard(&child.scoreboard.child(child.slot), {&slot});

    bool busy = false;
    std::unique_ptr<ChildControl> control;
    std::unique_ptr<ChildListeners> listeners;
    listeners = std::make_unique<ChildListeners>(
        io, server,
        [&](asio::ip::tcp::socket socket, const BoundListener& bound,
            const asio::ip::tcp::endpoint& peer) {
          busy = true;
          server.start_connection(std::move(socket), bound, services, peer, [&] {
            busy = false;
            listeners->wake();
          });
          control->connection_accepted();
        },
        [&] { return !busy; });
    control = std::make_unique<ChildControl>(io, child, *listeners,
                                             ChildHooks{.drain = [&] { tracker.drain_all(); },
                                                        .live = [&] { return tracker.size(); },
                                                        .finished = [&] { io.stop(); }});

    listeners->start();
    control->start();
    COLLAGE_LOG(LogLevel::info, "COL-PREFORK-0001", "prefork MPM child {} ready", ::getpid());
    io.run();
    return 0;
  }

 private:
  ProcessPlan plan_;
};

}  // namespace

void register_module(Registry& registry) {
  registry.add_module(
      {"prefork", ModuleKind::mpm, "prefork MPM: single-threaded children, one connection each"},
      kDirectives);
  registry.add_mpm("prefork",
                   [](const Scope& server, ConfigErrors& errors) -> std::unique_ptr<Mpm> {
                     ProcessPlan plan;
                     if (!read_common_plan(server, errors, plan)) {
                       return nullptr;
                     }
                     plan.threads_per_child = 1;
                     plan.thread_limit = 1;
                     const auto config = server.read<PreforkConfig>(kDirectives);
                     plan.min_spare = config.min_spare_servers;
                     plan.max_spare = config.max_spare_servers;
                     if (plan.max_spare <= plan.min_spare) {
                       plan.max_spare = plan.min_spare + 1;
                     }
                     return std::make_unique<PreforkMpm>(plan);
                   });
}

}  // namespace collage::prefork
