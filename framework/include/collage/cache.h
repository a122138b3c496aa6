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

// Where a provider keeps responses: the store's output (shared by every protocol and location
// that reach the same resource), or the output of the content and encoding filters (per URL).
enum class CachePoint : std::uint8_t { store, filtered };

class CacheProvider {
 public:
  virtual ~CacheProvider() = default;
  virtual CachePoint point() const { return CachePoint::store; }
  // Before the method phase: a request the provider answers itself (PURGE). True when answered.
  virtual Task<bool> intercept(RequestContext& /*ctx*/, Entity& /*out*/) const { co_return false; }
  // Fills `out` and returns true for a stored response to send; the store (and, for the filtered
  // point, the content and encoding filters) are then skipped.
  virtual Task<bool> lookup(RequestContext& ctx, Entity& out) const = 0;
  // Sees the response at the provider's cache point (head final, body ready or streaming), and
  // the store's answer to an unsafe method. May keep a copy, wrap entity.stream in a tee that
  // stores the body as the front end pulls it, or put a stored response in its place (a 304
  // from the store that revalidated a stored one, a stale one when the store failed).
  virtual Task<void> store(RequestContext& ctx, Entity& entity) const = 0;
};

// Returns null when the location does not enable the provider.
using CacheFactory =
    std::function<std::unique_ptr<CacheProvider>(const Scope& location, ConfigErrors& errors)>;

}  // namespace collage
