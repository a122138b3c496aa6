#include "collage/middle_end.h"
#include "collage/scoreboard.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include "collage/access.h"
#include "collage/conditional.h"
#include "collage/log.h"
#include "collage/metadata.h"
#include "collage/status.h"

#include "filtered_stream.h"

namespace collage {
namespace {

// "text/html; charset=utf-8" matches "text/html" and "text/*".
bool content_type_matches(std::string_view pattern, std::string_view type) {
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') {
    type.remove_suffix(1);
  }
  if (pattern.ends_with("/*")) {
    return istarts_with(type, pattern.substr(0, pattern.size() - 1));
  }
  return iequals(pattern, type);
}

// Why the response is not one the filter is made for (method, status, type, protocol, an
// internal request), or empty when it is: then its Vary headers belong on the response whether
// or not the request's headers let it apply.
std::string_view not_a_candidate(const FilterCapabilities& caps, const Request& request,
                                 const Entity& entity) {
  if (!caps.methods.contains(request.method)) {
    return "not declared for this method";
  }
  if (!caps.statuses.empty() &&
      std::find(caps.statuses.begin(), caps.statuses.end(), entity.status) == caps.statuses.end()) {
    return "not declared for this status";
  }
  if (!caps.content_types.empty() &&
      std::none_of(caps.content_types.begin(), caps.content_types.end(), [&](std::string_view p) {
        return content_type_matches(p, entity.content_type);
      })) {
    return "not declared for this content type";
  }
  if (caps.outermost_only && request.depth > 0) {
    return "declared for the client's response only, and this is an internal request";
  }
  if (!caps.protocols.empty() && std::find(caps.protocols.begin(), caps.protocols.end(),
                                           request.protocol) == caps.protocols.end()) {
    return "not declared for this protocol";
  }
  return {};
}

// Why the request's headers keep the filter out, or empty when they let it apply.
std::string_view request_does_not_fit(const FilterCapabilities& caps, const Request& request) {
  if (!caps.request_header.empty() && !request.headers.contains(caps.request_header)) {
    return "the request has no header it needs";
  }
  const HeaderPredicate& p = caps.request_predicate;
  if (p.accepts != nullptr && !p.accepts(request.headers.get(p.header))) {
    return "the request's header does not meet its condition";
  }
  return {};
}

// One line of the explanation, when one is wanted.
template <typename... Args>
void note(RequestContext& ctx, fmt::format_string<Args...> format, Args&&... args) {
  if (ctx.trace != nullptr) {
    ctx.trace->push_back(fmt::format(format, std::forward<Args>(args)...));
  }
}

enum class Buffered : std::uint8_t { complete, over_limit, failed };

// Pulls a streamed body into entity.body until it ends or passes `limit` bytes.
Task<Buffered> buffer_whole_body(Entity& entity, std::uint64_t limit) {
  while (entity.stream != nullptr) {
    if (entity.body.size() > limit) {
      co_return Buffered::over_limit;  // what was read stays as the ready part, ahead of the rest
    }
    const StreamStatus status = co_await entity.stream->next(entity.body, entity.stream_part_limit);
    if (status == StreamStatus::failed) {
      co_return Buffered::failed;
    }
    if (status == StreamStatus::end) {
      entity.stream.reset();
      entity.length = entity.body.size();
    }
  }
  co_return Buffered::complete;
}

// RFC 9110 §13.2: for GET and HEAD, against the head as it will be sent. Returns false when the
// request is answered (304 or 412).
bool check_preconditions(const Request& request, Entity& entity) {
  if ((request.method != Method::get && request.method != Method::head) || entity.status < 200 ||
      entity.status > 299) {
    return true;
  }
  const int status = evaluate_preconditions(request, entity, /*exists=*/true);
  if (status == 0) {
    return true;
  }
  if (status == 412) {
    entity.set_error(412);
    return false;
  }
  // 304 keeps the fields a 200 would have had that describe caching (RFC 9110 §15.4.5).
  Entity not_modified;
  not_modified.status = 304;
  not_modified.etag = std::move(entity.etag);
  not_modified.last_modified = entity.last_modified;
  for (const std::string_view name : {"Cache-Control", "Expires", "Vary", "Content-Location"}) {
    if (entity.headers.contains(name)) {
      not_modified.headers.add(std::string(name), std::string(entity.headers.get(name)));
    }
  }
  entity = std::move(not_modified);
  return false;
}

// Gives the entity's body to a filter instance: a small ready body is run through at once; a
// large one, or a stream, is wrapped so the filter sees it part by part as the front end pulls.
Task<FilterStatus> attach_instance(Entity& entity, std::unique_ptr<FilterInstance> instance) {
  if (entity.stream == nullptr && entity.body.size() <= entity.stream_part_limit) {
    Brigade out;
    const FilterStatus status = co_await instance->process(entity.body, /*last=*/true, out);
    entity.body = std::move(out);
    if (status == FilterStatus::again) {
      // More is coming (an include): the rest streams, the part made so far goes first.
      entity.stream = std::make_unique<FilteredStream>(nullptr, std::move(instance), true);
      co_return FilterStatus::pass;
    }
    co_return status;
  }
  std::unique_ptr<BodyStream> inner = std::move(entity.stream);
  if (!entity.body.empty()) {
    inner = std::make_unique<ReadyThenStream>(std::move(entity.body), std::move(inner));
    entity.body.clear();
  }
  entity.stream = std::make_unique<FilteredStream>(std::move(inner), std::move(instance));
  co_return FilterStatus::pass;
}

// A resumed read: the same entity from an offset, whichever store made it, ready or streamed.
bool apply_read_offset(std::uint64_t offset, Entity& out) {
  const std::optional<std::uint64_t> size =
      out.stream == nullptr ? std::optional<std::uint64_t>(out.body.size()) : out.length;
  if (size && offset > *size) {
    out.set_error(416);
    return false;
  }
  const std::uint64_t ready = out.body.size();
  out.body = out.body.slice(std::min(offset, ready), ready - std::min(offset, ready));
  if (out.stream != nullptr && offset > ready) {
    out.stream = std::make_unique<SkipStream>(std::move(out.stream), offset - ready);
  }
  out.length = size ? std::optional<std::uint64_t>(*size - offset) : std::nullopt;
  return true;
}

// Between the encoding and transform stages: the filtered cache point, then the preconditions.
// False when the request is answered (304 or 412).
Task<bool> enter_transform_stage(RequestContext& ctx, Entity& out, bool from_cache) {
  const Method method = ctx.request.method;
  if (!from_cache && (method == Method::get || method == Method::head)) {
    for (const std::unique_ptr<CacheProvider>& cache : ctx.location.caches) {
      if (cache->point() == CachePoint::filtered) {
        co_await cache->store(ctx, out);
      }
    }
  }
  co_return check_preconditions(ctx.request, out);
}

// `filtered_hit`: the response came from a filtered-point cache entry, which holds the content
// and encoding filters' output already.
Task<void> run_filters(RequestContext& ctx, Entity& out, bool filtered_hit) {
  const Request& request = ctx.request;
  bool preconditions_checked = false;
  for (const FilterSlot& slot : ctx.location.filters) {
    const FilterCapabilities& caps = slot.registration->capabilities;
    if (!preconditions_checked && caps.stage >= FilterStage::transform) {
      preconditions_checked = true;
      if (!co_await enter_transform_stage(ctx, out, filtered_hit)) {
        co_return;
      }
    }
    if (filtered_hit && caps.stage < FilterStage::transform) {
      continue;  // its output is what the cache entry holds
    }
    const std::string_view name = slot.registration->name;
    const std::string_view stage = filter_stage_name(caps.stage);
    if (const std::string_view why = not_a_candidate(caps, request, out); !why.empty()) {
      note(ctx, "filter {} [{}]: left out: {} ({} {}, {})", name, stage, why, request.method_token,
           out.status, out.content_type.empty() ? "no type" : out.content_type);
      continue;
    }
    for (const std::string_view header : caps.vary) {
      add_vary(out, header);
    }
    if (const std::string_view why = request_does_not_fit(caps, request); !why.empty()) {
      note(ctx, "filter {} [{}]: left out: {} ({})", name, stage, why,
           caps.request_header.empty() ? caps.request_predicate.header : caps.request_header);
      continue;
    }
    if (caps.needs_whole_body && out.stream != nullptr) {
      switch (co_await buffer_whole_body(out, ctx.location.place.filter_buffer_limit)) {
        case Buffered::complete: break;
        case Buffered::over_limit:
          if (caps.over_limit == OverLimit::skip) {
            note(ctx, "filter {} [{}]: left out: the body is larger than FilterBufferLimit", name,
                 stage);
            continue;  // declared: this filter is left out of bodies this large
          }
          COLLAGE_LOG(LogLevel::error, "COL-CORE-0006",
                      "{}: the {} filter needs the whole body, which is larger than "
                      "FilterBufferLimit ({} bytes)",
                      printable(request.path), slot.registration->name,
                      ctx.location.place.filter_buffer_limit);
          out.set_error(500);
          co_return;
        case Buffered::failed: out.set_error(502); co_return;
      }
    }
    if (caps.needs_known_length && !out.length) {
      note(ctx, "filter {} [{}]: left out: it needs a known length and the body has none", name,
           stage);
      continue;  // declared: this filter is left out of bodies of unknown length
    }
    note(ctx, "filter {} [{}]: applied: declared for {} {}, {}", name, stage, request.method_token,
         out.status, out.content_type.empty() ? "any type" : out.content_type);
    std::unique_ptr<FilterInstance> instance;
    if (slot.filter->start(ctx, out, instance) == FilterStatus::error) {
      co_return;
    }
    if (instance != nullptr &&
        co_await attach_instance(out, std::move(instance)) == FilterStatus::failed) {
      out.set_error(500);
      co_return;
    }
  }
  if (!preconditions_checked) {
    co_await enter_transform_stage(ctx, out, filtered_hit);
  }
}

// Every phase after route (respond() adds the explanation around it).
Task<void> respond_phases(RequestContext& ctx, Entity& out);

}  // namespace

RequestContext route(const Generation& generation, Request& request, Services& services,
                     std::vector<std::string>* trace) {
  // An admin listener's requests reach the admin store alone, whatever Host they name.
  const bool admin = request.peer != nullptr && request.peer->listener != nullptr &&
                     request.peer->listener->config.admin && generation.admin_host() != nullptr;
  const VirtualHost& host =
      admin ? *generation.admin_host() : generation.virtual_host_for(request.host);
  const Location* location = &generation.location_for(host, request.path);
  RouteAnswer answer;
  std::uint8_t rewrites = 0;
  std::string named;
  bool ended = false;
  while (!location->rules.empty() && !ended) {
    RewriteContext rewrite{
        request, *location, generation, answer, named, trace, request.rewritten_query};
    RewriteStep step = RewriteStep::next;
    for (const std::unique_ptr<SiteRules>& rules : location->rules) {
      step = rules->rewrite(rewrite);
      if (step != RewriteStep::next) {
        break;
      }
    }
    if (step != RewriteStep::reroute && step != RewriteStep::reroute_end) {
      break;
    }
    ended = step == RewriteStep::reroute_end;
    if (++rewrites > kMaxRewrites) {
      COLLAGE_LOG(LogLevel::error, "COL-CORE-0011",
                  "{}: rewritten more than {} times, a rewrite loop (last to {})",
                  printable(request.target), kMaxRewrites, printable(request.path));
      answer = RouteAnswer{500, {}};
      break;
    }
    if (!named.empty()) {
      location = generation.named_location(host, named);
      if (location == nullptr) {
        COLLAGE_LOG(LogLevel::error, "COL-CORE-0012", "{}: no location named {} in {}",
                    printable(request.target), printable(named), host.name);
        location = &generation.location_for(host, request.path);
        answer = RouteAnswer{500, {}};
        break;
      }
      named.clear();
    } else {
      location = &generation.location_for(host, request.path);
    }
    if (trace != nullptr) {
      trace->push_back(fmt::format("rewrite: routed again as {}{}{} to location {}", request.path,
                                   request.query.empty() ? "" : "?", request.query,
                                   location->prefix));
    }
  }
  if (!admin && !within_address_rate(generation, request, services)) {
    answer = RouteAnswer{429, {{"Retry-After", "1"}}};
  }
  request.routed_host = &host;
  request.routed_location = location;
  RequestContext ctx{request, host, *location, services, &generation};
  ctx.route_answer = std::move(answer);
  ctx.rewrites = rewrites;
  return ctx;
}

bool within_address_rate(const Generation& generation, Request& request, Services& services) {
  const int rate = generation.settings().request_rate_per_address;
  if (request.rate == Request::Rate::unchecked) {
    // Internal requests and local (Unix-socket) callers are not counted.
    const bool counted =
        rate > 0 && request.depth == 0 && request.peer != nullptr && request.peer->unix_uid < 0;
    request.rate = Request::Rate::within;
    thread_local std::string key;
    if (counted) {
      key.assign("rate ");
      key += request.peer->address;
      if (!within_rate(services.child_score(), key, static_cast<std::uint32_t>(rate))) {
        request.rate = Request::Rate::over;
        if (ChildScore* row = services.child_score()) {
          row->refused.fetch_add(1, std::memory_order_relaxed);
        }
        thread_local std::int64_t said_at = 0;
        if (const std::int64_t now = wall_clock_ms(); now - said_at >= 1000) {
          said_at = now;
          COLLAGE_LOG(LogLevel::warn, "COL-CORE-0015",
                      "{}: more than {} requests a second (RequestRatePerAddress); answered 429",
                      request.peer->address, rate);
        }
      }
    }
  }
  return request.rate != Request::Rate::over;
}

Task<void> respond(RequestContext& ctx, Entity& out) {
  // A live request is explained in the error log at debug level.
  std::vector<std::string> lines;
  const bool log_trace = ctx.trace == nullptr && error_log().enabled(LogLevel::debug);
  if (log_trace) {
    ctx.trace = &lines;
  }
  co_await respond_phases(ctx, out);
  const Location& location = ctx.location;
  if (location.rules_handle_errors && out.status >= 400 && ctx.request.depth == 0) {
    for (const std::unique_ptr<SiteRules>& rules : location.rules) {
      if (rules->handles_errors()) {
        co_await rules->error_response(ctx, out);
      }
    }
  }
  for (const std::unique_ptr<SiteRules>& rules : location.rules) {
    rules->final_head(ctx, out);
  }
  for (const std::unique_ptr<CacheProvider>& cache : ctx.location.caches) {
    cache->after_filters(ctx, out);
  }
  if (log_trace) {
    ctx.trace = nullptr;
    COLLAGE_LOG(LogLevel::debug, "COL-CORE-0009", "{} {}: {}", ctx.request.method_token,
                printable(ctx.request.path), fmt::join(lines, "; "));
  }
}

namespace {

Task<void> respond_phases(RequestContext& ctx, Entity& out) {
  const Request& request = ctx.request;
  const Location& location = ctx.location;
  note(ctx, "virtual host {}, location {} ({}), store {}", ctx.virtual_host.name, location.prefix,
       location.scope != nullptr ? location.scope->where().str() : "built in",
       location.place.store);
  if (const RouteAnswer& answer = ctx.route_answer; answer.status != 0) {
    const auto target =
        std::find_if(answer.headers.begin(), answer.headers.end(),
                     [](const auto& field) { return iequals(field.first, "Location"); });
    if (answer.status >= 300 && answer.status < 400 && target != answer.headers.end()) {
      out.reset();
      out.set_body(redirect_page(answer.status, target->second), "text/html; charset=utf-8");
      out.status = answer.status;
    } else if (answer.status >= 400) {
      out.set_error(answer.status);
    } else {
      out.reset();
      out.status = answer.status;
      out.length = 0;
    }
    for (const auto& [name, value] : answer.headers) {
      out.headers.add(name, value);
    }
    note(ctx, "answered by the rewrite phase: {}", answer.status);
    co_return;
  }
  const std::vector<std::string>& protocols = location.place.protocols;
  out.stream_part_limit = location.place.stream_buffer_size;
  if (!protocols.empty() &&
      std::find(protocols.begin(), protocols.end(), request.protocol) == protocols.end()) {
    out.set_error(403);  // e.g. a writable place meant for FTP accounts only
    note(ctx, "refused: the location's Protocols do not include {}", request.protocol);
    co_return;
  }
  if (!location.access.empty() && !co_await check_access(ctx, out)) {
    note(ctx, "refused by the access phase: {}", out.status);
    co_return;
  }
  for (const std::unique_ptr<CacheProvider>& cache : location.caches) {
    if (co_await cache->intercept(ctx, out)) {
      note(ctx, "answered by the cache ({})", request.method_token);
      co_return;
    }
  }
  MethodSet allowed = location.store->methods();
  allowed.add(Method::options);
  if (request.method == Method::options) {
    out.reset();
    out.status = 200;
    out.length = 0;
    std::string allow;
    append_allow_header_value(allowed, allow);
    out.headers.add("Allow", std::move(allow));
    co_return;
  }
  if (!allowed.contains(request.method)) {
    out.set_error(405);
    std::string allow;
    append_allow_header_value(allowed, allow);
    out.headers.add("Allow", std::move(allow));
    co_return;
  }
  const CacheProvider* answered_by = nullptr;
  for (const std::unique_ptr<CacheProvider>& cache : location.caches) {
    if (co_await cache->lookup(ctx, out)) {
      answered_by = cache.get();  // cache lookup: a stored response stands in for the store's
      note(ctx, "answered from the cache ({} point)",
           cache->point() == CachePoint::store ? "store" : "filtered");
      break;
    }
  }
  if (answered_by == nullptr) {
    for (const std::unique_ptr<SiteRules>& rules : location.rules) {
      rules->before_store(ctx);
    }
    co_await location.store->handle(ctx, out);
    for (const std::unique_ptr<SiteRules>& rules : location.rules) {
      rules->store_head(ctx, out);
    }
    const bool safe = request.method == Method::get || request.method == Method::head;
    for (const std::unique_ptr<CacheProvider>& cache : location.caches) {
      if (!safe || cache->point() == CachePoint::store) {
        co_await cache->store(ctx, out);  // the whole entity, before any offset
      }
    }
  }
  out.stream_part_limit = location.place.stream_buffer_size;  // the store may have replaced it
  if (request.read_offset && out.status == 200 && !apply_read_offset(*request.read_offset, out)) {
    co_return;
  }
  note(ctx, "the store answered {} {}{}", out.status,
       out.content_type.empty() ? "(no type)" : out.content_type,
       out.stream != nullptr ? ", streamed" : "");
  if (!request.store_only) {
    co_await run_filters(ctx, out,
                         answered_by != nullptr && answered_by->point() == CachePoint::filtered);
  }
}

}  // namespace

void add_vary(Entity& entity, std::string_view header) {
  const std::string_view current = entity.headers.get("Vary");
  if (current.empty()) {
    entity.headers.set("Vary", std::string(header));
    return;
  }
  std::string_view rest = current;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = trim_ows(rest.substr(0, comma));
    if (item == "*" || iequals(item, header)) {
      return;
    }
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  std::string value(current);
  value += ", ";
  value += header;
  entity.headers.set("Vary", std::move(value));
}

std::vector<const FilterRegistration*> order_filters(
    std::vector<const FilterRegistration*> filters) {
  // Stable topological sort: stage first, then before/after; ties keep registration order.
  // A stable insertion sort serves the handful of filters a location has.
  for (std::size_t i = 1; i < filters.size(); ++i) {
    for (std::size_t j = i;
         j > 0 && filters[j]->capabilities.stage < filters[j - 1]->capabilities.stage; --j) {
      std::swap(filters[j], filters[j - 1]);
    }
  }
  const std::size_t n = filters.size();
  auto must_precede = [&](std::size_t a, std::size_t b) {
    const auto& ca = filters[a]->capabilities;
    const auto& cb = filters[b]->capabilities;
    if (ca.stage != cb.stage) {
      return ca.stage < cb.stage;
    }
    return std::find(ca.before.begin(), ca.before.end(), filters[b]->name) != ca.before.end() ||
           std::find(cb.after.begin(), cb.after.end(), filters[a]->name) != cb.after.end();
  };
  std::vector<const FilterRegistration*> ordered;
  std::vector<bool> placed(n, false);
  while (ordered.size() < n) {
    bool progress = false;
    for (std::size_t i = 0; i < n; ++i) {
      if (placed[i]) {
        continue;
      }
      bool ready = true;
      for (std::size_t j = 0; j < n && ready; ++j) {
        ready = placed[j] || j == i || !must_precede(j, i);
      }
      if (ready) {
        placed[i] = true;
        ordered.push_back(filters[i]);
        progress = true;
        break;
      }
    }
    if (!progress) {
      throw std::logic_error("filter ordering constraints form a cycle");
    }
  }
  return ordered;
}

}  // namespace collage
