#include "health_check.h"

#include <unistd.h>

#include <fmt/format.h>

#include "collage/log.h"
#include "response_head.h"

namespace collage::proxy {
namespace {

class HealthChecker final : public TrackedConnection {
 public:
  HealthChecker(std::shared_ptr<Balancer> balancer, HealthSettings settings,
                const asio::any_io_executor& executor, Services& services)
      : balancer_(std::move(balancer)),
        settings_(std::move(settings)),
        timer_(executor),
        services_(services) {}

  void drain() override {
    stopping_ = true;
    timer_.cancel();
  }

  // The checker is a parameter, kept by the coroutine's frame until the loop ends.
  static Task<void> run(std::shared_ptr<HealthChecker> self) {
    const ConnectionTracker::Handle handle = self->services_.connections().add(self.get());
    while (!self->stopping_ && !self->services_.connections().draining()) {
      for (UpstreamServer* server : self->balancer_->servers()) {
        if (self->stopping_) {
          break;
        }
        const bool ok = co_await self->check(*server);
        self->record(*server, ok);
      }
      self->timer_.expires_after(self->settings_.interval);
      co_await self->timer_.async_wait(kAsTuple);
    }
    self->services_.connections().remove(handle);
  }

 private:
  Task<bool> check(UpstreamServer& server) {
    auto pool = std::make_shared<gateway::ConnectionPool>(0);  // a fresh connection each time
    gateway::UpstreamSocket socket(co_await asio::this_coro::executor, pool, settings_.timeout);
    bool reused = false;
    std::string error;
    if (!co_await socket.open(server.address, settings_.timeout, false, reused, error)) {
      last_error_ = error;
      co_return false;
    }
    const std::string request = fmt::format(
        "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: collage-health-check\r\n"
        "Connection: close\r\n\r\n",
        settings_.path, server.authority);
    if (!co_await socket.write(request, error)) {
      last_error_ = error;
      co_return false;
    }
    std::string buffer;
    ResponseHead head;
    std::size_t consumed = 0;
    for (;;) {
      const HeadParse parsed = parse_response_head(buffer, false, head, consumed);
      if (parsed == HeadParse::done) {
        last_error_ = fmt::format("answered {} to {}", head.status, settings_.path);
        socket.close();
        co_return head.status == settings_.expected_status;
      }
      if (parsed == HeadParse::bad ||
          co_await socket.read_more(buffer, 4096) != gateway::UpstreamRead::data) {
        last_error_ = parsed == HeadParse::bad ? "a malformed answer" : "no answer in time";
        co_return false;
      }
    }
  }

  void record(UpstreamServer& server, bool ok) {
    if (ok) {
      server.health_failures = 0;
      if (server.checked_down && ++server.health_passes >= settings_.rise) {
        server.checked_down = false;
        server.down_until_ms.store(0);
        COLLAGE_LOG(LogLevel::notice, "COL-PROXY-0003",
                    "upstream {} passed its health check {} times: back in", server.address.text,
                    settings_.rise);
      }
      return;
    }
    server.health_passes = 0;
    if (!server.checked_down && ++server.health_failures >= settings_.fall) {
      server.checked_down = true;
      server.down_until_ms.store(std::numeric_limits<std::int64_t>::max());
      COLLAGE_LOG(LogLevel::warn, "COL-PROXY-0003",
                  "upstream {} failed its health check {} times ({}): left out",
                  server.address.text, settings_.fall, last_error_);
    }
  }

  std::shared_ptr<Balancer> balancer_;
  HealthSettings settings_;
  asio::steady_timer timer_;
  Services& services_;
  bool stopping_ = false;
  std::string last_error_;
};

}  // namespace

void start_health_checks(std::shared_ptr<Balancer> balancer, const HealthSettings& settings,
                         Services& services, const asio::any_io_executor& executor) {
  pid_t checked_by = balancer->health_checked_by.load();
  if (settings.path.empty() || checked_by == ::getpid() ||
      !balancer->health_checked_by.compare_exchange_strong(checked_by, ::getpid())) {
    return;  // one checker per process, on the loop of the first request that asks
  }
  auto checker = std::make_shared<HealthChecker>(balancer, settings, executor, services);
  asio::co_spawn(executor, HealthChecker::run(std::move(checker)), asio::detached);
}

}  // namespace collage::proxy
