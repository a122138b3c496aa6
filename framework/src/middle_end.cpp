#include "collage/middle_end.h"

#include <algorithm>
#include <stdexcept>

#include "collage/metadata.h"

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

bool filter_applies(const FilterCapabilities& caps, const Request& request, const Entity& entity) {
  if (!caps.methods.contains(request.method)) {
    return false;
  }
  if (!caps.statuses.empty() &&
      std::find(caps.statuses.begin(), caps.statuses.end(), entity.status) == caps.statuses.end()) {
    return false;
  }
  if (!caps.content_types.empty() &&
      std::none_of(caps.content_types.begin(), caps.content_types.end(), [&](std::string_view p) {
        return content_type_matches(p, entity.content_type);
      })) {
    return false;
  }
  if (!caps.protocols.empty() && std::find(caps.protocols.begin(), caps.protocols.end(),
                                           request.protocol) == caps.protocols.end()) {
    return false;
  }
  if (!caps.request_header.empty() && !request.headers.contains(caps.request_header)) {
    return false;
  }
  if (caps.needs_known_length && !entity.length) {
    return false;
  }
  if (caps.needs_whole_body && !entity.body.end_of_stream() && !entity.length) {
    return false;
  }
  return true;
}

}  // namespace

RequestContext route(const Generation& generation, Request& request, Services& services) {
  const VirtualHost& host = generation.virtual_host_for(request.host);
  const Location& location = generation.location_for(host, request.path);
  return RequestContext{request, host, location, services};
}

void select_filters(const RequestContext& ctx, const Entity& entity,
                    std::vector<const Filter*>& chain) {
  chain.clear();
  for (const FilterSlot& slot : ctx.location.filters) {
    if (filter_applies(slot.registration->capabilities, ctx.request, entity)) {
      chain.push_back(slot.filter.get());
    }
  }
}

Task<void> respond(RequestContext& ctx, Entity& out) {
  const Request& request = ctx.request;
  const Location& location = ctx.location;
  if (!location.protocols.empty() && std::find(location.protocols.begin(), location.protocols.end(),
                                               request.protocol) == location.protocols.end()) {
    out.set_error(403);  // e.g. a writable place meant for FTP accounts only
    co_return;
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
  co_await location.store->handle(ctx, out);
  if (request.read_offset && out.status == 200) {
    // A resumed read: the same entity from an offset, whichever store made it.
    const std::uint64_t size = out.body.size();
    if (*request.read_offset > size) {
      out.set_error(416);
      co_return;
    }
    Brigade rest = out.body.slice(*request.read_offset, size - *request.read_offset);
    rest.set_end_of_stream();
    out.body = std::move(rest);
    out.length = out.body.size();
  }
  // Filters are chosen after the store ran: status and content type decide, not the filter.
  for (const FilterSlot& slot : location.filters) {
    if (filter_applies(slot.registration->capabilities, request, out)) {
      if (slot.filter->apply(ctx, out) == FilterStatus::error) {
        break;
      }
    }
  }
}

std::vector<const FilterRegistration*> order_filters(
    std::vector<const FilterRegistration*> filters) {
  // Stable topological sort: stage first, then before/after; ties keep registration order.
  // std::stable_sort trips a deprecation inside libstdc++ 12 under clang; a stable insertion sort
  // serves the handful of filters a location has.
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
