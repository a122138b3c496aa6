// The status store: what every child of the server is doing, read from the shared scoreboard,
// like httpd's mod_status. <Location path="/server-status"><Store>status</Store></Location>;
// "?auto" gives plain text for monitoring scripts.

#include "collage/middle_end.h"
#include "collage/registry.h"
#include "collage/scoreboard.h"
#include "collage/store.h"
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
    const bool automatic = ctx.request.query == "auto" || ctx.request.query.starts_with("auto&");
    std::string page =
        automatic ? render_auto(*board, wall_clock_ms()) : render_html(*board, wall_clock_ms());
    out.set_body(std::move(page),
                 automatic ? "text/plain; charset=utf-8" : "text/html; charset=utf-8");
    out.headers.set("Cache-Control", "no-store");
  }
};

}  // namespace

void register_module(Registry& registry) {
  registry.add_module({"status", ModuleKind::store, "server status from the scoreboard"});
  registry.add_store("status", [](const Scope&, ConfigErrors&) -> std::unique_ptr<Store> {
    return std::make_unique<StatusStore>();
  });
}

}  // namespace collage::status
