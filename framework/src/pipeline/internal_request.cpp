// Requests the server makes to itself: a CGI's local redirect, an SSI include.

#include "collage/log.h"
#include "collage/metadata.h"
#include "collage/middle_end.h"
#include "collage/path.h"

namespace collage {
namespace {

// The internal request and its context, kept alive by the body they produce.
struct InternalRequest {
  std::string target;
  Request request;
  std::optional<RequestContext> ctx;
};

// A body that owns the internal request it came from; the inner stream goes first (its
// filters may still refer to the request).
class OwningStream final : public BodyStream {
 public:
  OwningStream(std::unique_ptr<InternalRequest> owner, std::unique_ptr<BodyStream> inner)
      : owner_(std::move(owner)), inner_(std::move(inner)) {}
  Task<StreamStatus> next(Brigade& out, std::size_t limit) override {
    return inner_->next(out, limit);
  }

 private:
  std::unique_ptr<InternalRequest> owner_;
  std::unique_ptr<BodyStream> inner_;
};

// Fields that describe the outer response the client asked for, not the included content.
bool belongs_to_outer_request(std::string_view name) {
  return istarts_with(name, "If-") || iequals(name, "Range") || iequals(name, "Content-Length") ||
         iequals(name, "Content-Type") || iequals(name, "Transfer-Encoding") ||
         iequals(name, "Expect");
}

}  // namespace

Task<void> respond_internal(RequestContext& ctx, std::string_view target, Entity& out,
                            bool store_only) {
  const Request& parent = ctx.request;
  if (parent.depth >= kMaxInternalDepth || ctx.generation == nullptr) {
    COLLAGE_LOG(LogLevel::error, "COL-CORE-0007",
                "{}: internal requests nest deeper than {} (a redirect or include loop) at {}",
                printable(parent.path), kMaxInternalDepth, printable(target));
    out.set_error(500);
    co_return;
  }
  auto internal = std::make_unique<InternalRequest>();
  internal->target = target;
  Request& request = internal->request;
  const std::string_view whole = internal->target;
  const std::size_t question = whole.find('?');
  request.protocol = parent.protocol;
  request.method = Method::get;
  request.method_token = "GET";
  request.target = whole;
  request.query =
      question == std::string_view::npos ? std::string_view() : whole.substr(question + 1);
  request.host = parent.host;
  request.peer = parent.peer;
  request.secure = parent.secure;
  request.user = parent.user;
  request.received = parent.received;
  request.id = parent.id;
  request.depth = static_cast<std::uint8_t>(parent.depth + 1);
  request.store_only = store_only;
  for (const auto& [name, value] : parent.headers.fields()) {
    if (!belongs_to_outer_request(name)) {
      request.headers.add(name, value);
    }
  }
  if (normalize_path(whole.substr(0, question), request.path) != PathResult::ok) {
    COLLAGE_LOG(LogLevel::error, "COL-CORE-0008", "{}: internal request for a bad path {}",
                printable(parent.path), printable(target));
    out.set_error(500);
    co_return;
  }
  internal->ctx.emplace(route(*ctx.generation, request, ctx.services));
  co_await respond(*internal->ctx, out);
  if (out.stream != nullptr) {
    out.stream = std::make_unique<OwningStream>(std::move(internal), std::move(out.stream));
  }
}

}  // namespace collage
