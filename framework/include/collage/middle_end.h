#pragma once
// The middle end: routes a request to a location, checks the method, runs the store and then the
// filters whose declared capabilities fit this request and entity.

#include "collage/entity.h"
#include "collage/generation.h"
#include "collage/request.h"
#include "collage/services.h"

namespace collage {

struct RequestContext {
  Request& request;
  const VirtualHost& virtual_host;
  const Location& location;
  Services& services;
};

// Picks virtual host and location for request (host and path must be set).
RequestContext route(const Generation& generation, Request& request, Services& services);

// Answers ctx.request into out: OPTIONS, 405 with Allow, the store, then the filter chain.
// Runs on the connection's executor; may suspend inside the store.
Task<void> respond(RequestContext& ctx, Entity& out);

// The filters of ctx.location that apply to this request and entity, in chain order. Exposed for
// tests; respond() uses it.
void select_filters(const RequestContext& ctx, const Entity& entity,
                    std::vector<const Filter*>& chain);

// Orders filter registrations by stage and before/after constraints. Throws ConfigError-free
// std::logic_error on a cycle (a bug in module declarations, caught at startup).
std::vector<const FilterRegistration*> order_filters(
    std::vector<const FilterRegistration*> filters);

}  // namespace collage
