#pragma once
// The cache phases of the pipeline: a cache provider (ModuleKind::cache) is asked for a stored
// response before the store runs (cache lookup), and offered the store's response after it ran
// (cache store), where it may keep it or tee a streamed body as it passes. One provider instance
// per location that enables it, per generation; the cache issue builds the tiers behind this.

#include <functional>
#include <memory>

#include "collage/asio.h"
#include "collage/directive.h"
#include "collage/entity.h"

namespace collage {

struct RequestContext;

class CacheProvider {
 public:
  virtual ~CacheProvider() = default;
  // Fills `out` and returns true for a fresh stored response; the store is then skipped and the
  // response goes on to the offset and filter phases like the store's would.
  virtual Task<bool> lookup(RequestContext& ctx, Entity& out) const = 0;
  // Sees the store's response (head final, body ready or streaming). May keep a copy, or wrap
  // entity.stream in a tee that stores the body as the front end pulls it.
  virtual Task<void> store(RequestContext& ctx, Entity& entity) const = 0;
};

// Returns null when the location does not enable the provider.
using CacheFactory =
    std::function<std::unique_ptr<CacheProvider>(const Scope& location, ConfigErrors& errors)>;

}  // namespace collage
