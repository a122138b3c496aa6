#include "explain.h"

#include <fmt/format.h>

#include <algorithm>
#include <asio/io_context.hpp>

#include "collage/middle_end.h"
#include "collage/path.h"

namespace collage {

int explain_request(const Generation& generation, const Registry& registry, const std::string& url,
                    const std::vector<std::string>& headers, const std::string& method) {
  std::string_view rest = url;
  std::string_view protocol = "http1";
  bool secure = false;
  std::string host;
  for (const auto& [scheme, front_end] :
       {std::pair{"http://", "http1"}, std::pair{"https://", "http1"},
        std::pair{"gopher://", "gopher"}, std::pair{"ftp://", "ftp"}}) {
    if (rest.starts_with(scheme)) {
      protocol = front_end;
      secure = std::string_view(scheme) == "https://";
      rest.remove_prefix(std::string_view(scheme).size());
      const std::size_t slash = std::min(rest.find('/'), rest.size());
      std::string_view authority = rest.substr(0, slash);
      authority = authority.substr(
          0, authority.rfind(':') == std::string_view::npos || authority.ends_with(']')
                 ? authority.size()
                 : authority.rfind(':'));
      host = authority;
      rest.remove_prefix(slash);
      break;
    }
  }
  std::transform(host.begin(), host.end(), host.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  const std::string target = rest.empty() ? std::string("/") : std::string(rest);
  const std::size_t question = target.find('?');

  Request request;
  request.protocol = protocol;
  request.method_token = method;
  request.method = method_from_token(method);
  request.target = target;
  request.query = question == std::string::npos ? std::string_view()
                                                : std::string_view(target).substr(question + 1);
  request.host = host;
  request.secure = secure;
  request.received = std::chrono::system_clock::now();
  request.assign_id();
  if (normalize_path(std::string_view(target).substr(0, question), request.path) !=
      PathResult::ok) {
    fmt::print(stderr, "collage: --explain: the path of {} is not one a server would accept\n",
               url);
    return 2;
  }
  std::vector<std::pair<std::string, std::string>> fields;
  for (const std::string& line : headers) {
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos || colon == 0) {
      fmt::print(stderr, "collage: --header takes 'Name: value', not '{}'\n", line);
      return 2;
    }
    fields.emplace_back(line.substr(0, colon), std::string(trim_ows(line.substr(colon + 1))));
  }
  if (!host.empty()) {
    fields.emplace_back("Host", host);
  }
  for (const auto& [name, value] : fields) {
    request.headers.add(name, value);
  }
  PeerInfo peer{"127.0.0.1", 0, "127.0.0.1", 0};
  request.peer = &peer;

  asio::io_context io;
  ConnectionTracker tracker;
  Services services(io.get_executor(), tracker);
  std::vector<std::string> lines;
  Entity entity;
  const Location* chosen = nullptr;
  asio::co_spawn(
      io,
      [&]() -> Task<void> {
        RequestContext ctx = route(generation, request, services, &lines);
        chosen = &ctx.location;
        ctx.trace = &lines;
        co_await respond(ctx, entity);
        entity.stream.reset();  // the body is not wanted: a script making it is stopped
      },
      asio::detached);
  io.run();

  fmt::print("request   {} {} ({}{})\n", method, url, protocol, secure ? ", TLS" : "");
  for (const std::string& line : lines) {
    fmt::print("  {}\n", line);
  }
  if (chosen != nullptr) {
    for (const FilterRegistration& filter : registry.filters()) {
      const bool enabled =
          std::any_of(chosen->filters.begin(), chosen->filters.end(),
                      [&](const FilterSlot& slot) { return slot.registration == &filter; });
      if (!enabled) {
        fmt::print("  filter {} [{}]: not enabled here (Filters)\n", filter.name,
                   filter_stage_name(filter.capabilities.stage));
      }
    }
  }
  fmt::print("response  {} {}", entity.status,
             entity.content_type.empty() ? "(no type)" : entity.content_type);
  for (const auto& [name, value] : entity.headers.fields()) {
    if (name == "Content-Encoding" || name == "Vary" || name == "Location") {
      fmt::print(", {}: {}", name, value);
    }
  }
  fmt::print("\n");
  return 0;
}

}  // namespace collage
