#pragma once
// Output filters alter a response's metadata and body. A filter declares what it can do; the
// middle end builds each request's chain from those declarations and invokes only filters whose
// declarations fit, so a filter never sees a request it would have to decline.

#include <cstdint>
#include <string_view>
#include <vector>

#include "collage/entity.h"
#include "collage/method.h"

namespace collage {

struct RequestContext;

// Stages run in this order; within a stage the before/after constraints decide.
enum class FilterStage : std::uint8_t {
  content,    // produce or rewrite content (SSI, gopher menus to HTML)
  transform,  // select parts of it (byte ranges)
  encoding,   // change its encoding (compression)
  protocol,   // framing for the wire (chunking), usually inside the front end
};

std::string_view filter_stage_name(FilterStage stage);

struct FilterCapabilities {
  FilterStage stage = FilterStage::content;
  MethodSet methods = MethodSet::all();         // request methods it applies to
  std::vector<int> statuses;                    // response statuses it applies to; empty = any
  std::vector<std::string_view> content_types;  // "text/html", "text/*"; empty = any
  std::string_view request_header;              // applies only when the request carries this header
  std::vector<std::string_view> protocols;      // front ends it applies to ("http1"); empty = all
  bool needs_whole_body = false;                // must see the complete body at once
  bool needs_known_length = false;              // must know the body length up front
  bool changes_length = false;                  // output length differs from input length
  std::vector<std::string_view> after;          // filters (by name) that must run earlier
  std::vector<std::string_view> before;         // filters (by name) that must run later
};

enum class FilterStatus : std::uint8_t {
  pass,   // entity updated in place (or left alone); the chain continues
  error,  // the filter set an error status on the entity; the chain stops
};

class Filter {
 public:
  virtual ~Filter() = default;
  // Called on the connection's executor with the entity as the store (and earlier filters) left
  // it. A filter that declared needs_whole_body sees the complete body brigade. Must not suspend.
  virtual FilterStatus apply(RequestContext& ctx, Entity& entity) const = 0;
};

}  // namespace collage
