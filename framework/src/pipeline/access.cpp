#include "collage/access.h"

#include "collage/middle_end.h"

namespace collage {

Task<bool> check_access(RequestContext& ctx, Entity& out) {
  for (const std::unique_ptr<AccessCheck>& check : ctx.location.access) {
    if (!co_await check->check(ctx, out)) {
      co_return false;
    }
  }
  co_return true;
}

}  // namespace collage
