#pragma once
// The pipeline (middle end). Every request passes the same named phases, in this order:
//   route    listener → virtual host → location (route()); the location's rewrite rules may
//            change the path and route again, or answer (site_rules.h)
//   access   Protocols, then the location's access checks (address rules, authentication)
//   method   OPTIONS answered here, 405 with Allow for methods the store does not serve
//   (a cache provider may answer a request itself before this: PURGE)
//   cache lookup  each cache provider of the location may answer instead of the store
//   (site rules: request headers, before the store)
//   store    the location's store fills the entity (head, then a ready or streaming body)
//   (site rules: the store's head, e.g. expiry, before the cache keeps it)
//   cache store   each store-point cache provider sees the store's whole entity (and may tee
//                 its stream); filtered-point providers see it after the encoding filters
//   offset   a resumed read (Request::read_offset) cut from whatever the store made
//   filters  by stage: content, encoding, then the preconditions (If-*, against the head as it
//            will be sent), then transform (ranges) and protocol
//   (site rules: error documents, then the final head's headers)
//   log      the front end hands one record to the generation's request loggers once the body
//            is out (Generation::log_request, logger.h)

#include "collage/entity.h"
#include "collage/generation.h"
#include "collage/request.h"
#include "collage/services.h"

namespace collage {

// A front end keeps the context (and the request it refers to) alive until the response's body
// has been written: a filter instance or a body stream may refer to it while the body streams.
struct RequestContext {
  Request& request;
  const VirtualHost& virtual_host;
  const Location& location;
  Services& services;
  // The generation the request runs in, for a filter that routes a sub-request; null only in
  // tests that build a context by hand.
  const Generation* generation = nullptr;
  // When set, each phase adds a line saying what it decided and why (collage --explain; the
  // error log at debug level for live requests).
  std::vector<std::string>* trace = nullptr;
  // A cache provider's state for this request, from its lookup to its cache store phase.
  std::shared_ptr<void> cache_state;
  // What the rewrite phase answered instead of the location (status 0: nothing).
  RouteAnswer route_answer;
  // How many times the rewrite phase changed the request (0: it is as the client sent it).
  std::uint8_t rewrites = 0;
};

// An internal rewrite loop is cut after this many rounds and answered 500 with a log line.
inline constexpr std::uint8_t kMaxRewrites = 10;

// Picks virtual host and location for request (host and path must be set), running each
// location's rewrite rules on the way. `trace` (collage --explain) gets a line per rule that
// acted.
RequestContext route(const Generation& generation, Request& request, Services& services,
                     std::vector<std::string>* trace = nullptr);

// Answers ctx.request into out through every phase after route. Runs on the connection's
// executor; may suspend (store, filters, buffering). On return the head is final; the body may
// still be streaming (out.stream), for the front end to pull.
Task<void> respond(RequestContext& ctx, Entity& out);

// RequestRatePerAddress: counts request under its client's address (once; later calls repeat
// the answer) and says whether it is within the rate. Front ends ask before the quick path, so
// cache hits count too, and route() answers 429 for one that is over.
bool within_address_rate(const Generation& generation, Request& request, Services& services);

// Internal requests (a CGI's local redirect, an SSI `include virtual`) nest at most this deep;
// deeper is a loop, answered 500 with a log line.
inline constexpr std::uint8_t kMaxInternalDepth = 10;

// Answers a GET of `target` ("/path?query", a URL path as a client would send it) that the
// server makes to itself on behalf of ctx.request: same host, client, protocol and headers
// (less conditional and range ones, which belong to the outer response), through route and
// every phase. The body may still stream after this returns; the internal request's state lives
// as long as the body does.
// With `store_only`, the filters are left out (Request::store_only).
Task<void> respond_internal(RequestContext& ctx, std::string_view target, Entity& out,
                            bool store_only = false);

// Orders filter registrations by stage and before/after constraints. Throws std::logic_error on
// a cycle (a bug in module declarations, caught at startup).
std::vector<const FilterRegistration*> order_filters(
    std::vector<const FilterRegistration*> filters);

// Adds `header` to the entity's Vary field unless it is listed already.
void add_vary(Entity& entity, std::string_view header);

}  // namespace collage
