#pragma once
// Output filters alter a response's head and body. A filter declares what it can do; the pipeline
// builds each request's chain from those declarations and invokes only filters whose declarations
// fit, so a filter never sees a request it would have to decline. The Filter object is built once
// per location and generation and is immutable; each request it applies to gets its own small
// FilterInstance, which sees the body brigade by brigade as it streams past.

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "collage/asio.h"
#include "collage/body_stream.h"
#include "collage/entity.h"
#include "collage/method.h"

namespace collage {

struct RequestContext;
struct Request;

// Stages run in this order; within a stage the before/after constraints decide. Byte ranges
// apply to the representation as sent, so they come after any content coding (RFC 9110 §14).
enum class FilterStage : std::uint8_t {
  content,    // produce or rewrite content (SSI, gopher menus to HTML)
  encoding,   // change its encoding (compression)
  transform,  // select parts of what is sent (byte ranges)
  protocol,   // framing for the wire (chunking), usually inside the front end
};

std::string_view filter_stage_name(FilterStage stage);

// A condition on one request header's value, e.g. "Accept-Encoding allows gzip". `accepts` is
// given the header's value, empty when the request has none.
struct HeaderPredicate {
  std::string_view header;
  bool (*accepts)(std::string_view value) = nullptr;
};

// What the pipeline does with a needs_whole_body filter when the body is larger than
// FilterBufferLimit.
enum class OverLimit : std::uint8_t {
  skip,  // leave the filter out and send the body as it is (e.g. ranges: a 200 is allowed)
  fail,  // answer 500: the response cannot be made without the filter
};

struct FilterCapabilities {
  FilterStage stage = FilterStage::content;
  MethodSet methods = MethodSet::all();         // request methods it applies to
  std::vector<int> statuses;                    // response statuses it applies to; empty = any
  std::vector<std::string_view> content_types;  // "text/html", "text/*"; empty = any
  std::vector<std::string_view> protocols;      // front ends it applies to ("http1"); empty = all
  std::string_view request_header;              // applies only when the request carries this header
  HeaderPredicate request_predicate;            // applies only when this holds (if set)
  // Request headers whose values decide whether this filter applies: added to the response's
  // Vary whenever the filter is a candidate (method, status, type and protocol fit), applied or
  // not, so caches keep the variants apart.
  std::vector<std::string_view> vary;
  // Must see the complete body at once: the pipeline buffers a streamed body up to
  // FilterBufferLimit first, and does what over_limit says beyond it.
  bool needs_whole_body = false;
  OverLimit over_limit = OverLimit::skip;
  bool needs_known_length = false;  // must know the body length up front
  // Applies only to the response the client gets, not to internal requests (a content coding
  // on an SSI include would land inside the page).
  bool outermost_only = false;
  std::vector<std::string_view> after;   // filters (by name) that must run earlier
  std::vector<std::string_view> before;  // filters (by name) that must run later
};

enum class FilterStatus : std::uint8_t {
  pass,    // the head (or this part of the body) is done; the chain continues
  error,   // start(): the filter set an error status on the entity; the chain stops there
  failed,  // process(): the body cannot be completed; the response is cut off (and logged)
  // process(): more output is waiting (an SSI include streaming in): call again with an empty
  // `in` and the same `last` before any more input, so the output goes out in bounded parts.
  again,
};

// One request's use of a filter. Sees the body as it streams, in order, one brigade at a time.
class FilterInstance {
 public:
  virtual ~FilterInstance() = default;
  // `in` is the next part of the body (possibly empty), `last` whether the body ends with it.
  // Appends output to `out`; may keep bytes back for a later call (and must flush them when
  // `last`), may suspend (e.g. to offload work). Returns pass or failed.
  virtual Task<FilterStatus> process(Brigade& in, bool last, Brigade& out) = 0;
};

class Filter {
 public:
  virtual ~Filter() = default;
  // Called once per request the filter applies to, on the connection's executor, with the head as
  // the store and earlier filters left it; a needs_whole_body filter also finds the complete body
  // in entity.body and may replace it here. Sets `instance` when the filter wants to see the body
  // stream; leaves it null when it is done (head-only filters, whole-body work done here).
  virtual FilterStatus start(RequestContext& ctx, Entity& entity,
                             std::unique_ptr<FilterInstance>& instance) const = 0;
};

// Helpers for predicates: the q-value a list header (Accept-Encoding) gives `token`, counting "*"
// (RFC 9110 §12.5.3): 0 when refused or not mentioned.
double token_weight(std::string_view value, std::string_view token);
// Whether the header allows `token` with a nonzero q-value.
bool header_allows_token(std::string_view value, std::string_view token);

}  // namespace collage
