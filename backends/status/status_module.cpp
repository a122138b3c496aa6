// The status store: what every child of the server is doing, read from the shared scoreboard,
// like httpd's mod_status. <Location path="/server-status"><Store>status</Store></Location>;
// "?auto" gives plain text for monitoring scripts, "?json" the same data as JSON, "?refresh=N"
// a page that reloads itself without script. The metrics store answers Prometheus.

#include <algorithm>
#include <charconv>

#include "collage/middle_end.h"
#include "collage/registry.h"
#include "collage/scoreboard.h"
#include "collage/store.h"
#include "metrics_page.h"
#include "status_page.h"

namespace collage::status {
namespace {

class StatusStore final : public Store {
 public:
  MethodSet methods() const override { return MethodSet{Method::get, Method::head}; }

  Task<void> handle(RequestContext& ctx, Entity& out) const override {
    const Scoreboard* board = running_scoreboard();
    if (board == nullptr) {
      out.set_error(503);
      co_return;
    }
    const std::string_view query = ctx.request.query;
    const std::string_view first = query.substr(0, query.find('&'));
    if (first == "auto") {
      out.set_body(render_auto(*board, wall_clock_ms()), "text/plain; charset=utf-8");
    } else if (first == "json") {
      out.set_body(render_json(*board, wall_clock_ms()), "application/json");
    } else {
      int refresh = 0;
      if (first.starts_with("refresh=")) {
        const std::string_view digits = first.substr(8);
        std::from_chars(digits.data(), digits.data() + digits.size(), refresh);
        refresh = std::clamp(refresh, 0, 3600);
      }
      out.set_body(render_html(*board, wall_clock_ms(), refresh), "text/html; charset=utf-8");
    }
    out.headers.set("Cache-Control", "no-store");
  }
};

// Prometheus scrapes this (text exposition format 0.0.4).
class MetricsStore final : public Store {
 public:
  MethodSet methods() const override { return MethodSet{Method::get, Method::head}; }

  Task<void> handle(RequestContext&, Entity& out) const override {
    const Scoreboard* board = running_scoreboard();
    if (board == nullptr) {
      out.set_error(503);
      co_return;
    }
    out.set_body(render_metrics(*board, wall_clock_ms()),
                 "text/plain; version=0.0.4; charset=utf-8");
    out.headers.set("Cache-Control", "no-store");
  }
};

}  // namespace

void register_module(Registry& registry) {
  registry.add_module(
      {"status", ModuleKind::store,
       "server status page (?auto, ?json) and Prometheus metrics from the scoreboard"});
  registry.add_store("status", [](const Scope&, ConfigErrors&) -> std::unique_ptr<Store> {
    return std::make_unique<StatusStore>();
  });
  registry.add_store("metrics", [](const Scope&, ConfigErrors&) -> std::unique_ptr<Store> {
    return std::make_unique<MetricsStore>();
  });
}

}  // namespace collage::status
