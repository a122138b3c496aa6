#pragma once
// The access phase: checks a location runs before its store sees a request (client address rules,
// authentication). Each access module builds one check per location that uses its directives;
// every check of the location must let the request through, in registration order.

#include <memory>

#include "collage/asio.h"
#include "collage/entity.h"

namespace collage {

struct RequestContext;

class AccessCheck {
 public:
  virtual ~AccessCheck() = default;
  // True to let the request go on. False after setting the answer in `out` (403, or 401 with a
  // challenge) and logging why. May suspend (a password hash is worked out off the event thread)
  // and may set ctx.request.user.
  virtual Task<bool> check(RequestContext& ctx, Entity& out) const = 0;
};

// Runs the location's checks in order; false when one refused (out holds its answer).
Task<bool> check_access(RequestContext& ctx, Entity& out);

}  // namespace collage
