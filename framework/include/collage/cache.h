#pragma once
// The cache phases of the pipeline: a cache provider (ModuleKind::cache) is asked for a stored
// response before the store runs (cache lookup), and offered the response at its cache point
// (cache store): right after the store, or after the content and encoding filters, where it may
// keep it or tee a streamed body as it passes. One provider instance per location, per generation.

#include <functional>
#include <memory>

#include "collage/asio.h"
#include "collage/directive.h"
#include "collage/entity.h"

namespace collage {

struct RequestContext;
struct Request;

// Where a provider keeps responses: the store's output (shared by every protocol and location
// that reach the same resource), or the output of the content and encoding filters (per URL).
enum class CachePoint : std::uint8_t { store, filtered };

class CacheProvider {
 public:
  virtual ~CacheProvider() = default;
  virtual CachePoint point() const { return CachePoint::store; }
  // Before the method phase: a request the provider answers itself (PURGE). True when answered.
  virtual Task<bool> intercept(RequestContext& /*ctx*/, Entity& /*out*/) const { co_return false; }
  // Removes what this provider keeps for ctx.request (a path ending in '*': everything under
  // it) and returns how many entries went. For callers already authorized (the admin API), so
  // it does not ask for CachePurge.
  virtual Task<std::size_t> purge(RequestContext& /*ctx*/) const { co_return 0; }
  // Fills `out` and returns true for a stored response to send; the store (and, for the filtered
  // point, the content and encoding filters) are then skipped.
  virtual Task<bool> lookup(RequestContext& ctx, Entity& out) const = 0;
  // Sees the response at the provider's cache point (head final, body ready or streaming), and
  // the store's answer to an unsafe method. May keep a copy, wrap entity.stream in a tee that
  // stores the body as the front end pulls it, or put a stored response in its place (a 304
  // from the store that revalidated a stored one, a stale one when the store failed).
  virtual Task<void> store(RequestContext& ctx, Entity& entity) const = 0;
  // Sees the final response once every filter has run (a hit may be offered to the quick path).
  virtual void after_filters(RequestContext& /*ctx*/, const Entity& /*entity*/) const {}
};

// The quick path: before routing, a front end asks the generation's quick cache whether a
// fresh stored response answers the request as it arrived; a hit skips every phase of the middle
// end. It answers only what the full path would answer the same way (no access checks, no
// conditional or range headers, a body no filter changed). Safe to call from any thread.
class QuickCache {
 public:
  virtual ~QuickCache() = default;
  // True with `out` filled (head and body) when a stored response answers the request.
  virtual bool answer(const Request& request, Entity& out) const = 0;
};

// One quick cache per generation, from the server's directives; null to have none.
using QuickCacheFactory =
    std::function<std::unique_ptr<QuickCache>(const Scope& server, ConfigErrors& errors)>;

// Returns null when the location does not enable the provider.
using CacheFactory =
    std::function<std::unique_ptr<CacheProvider>(const Scope& location, ConfigErrors& errors)>;

}  // namespace collage
