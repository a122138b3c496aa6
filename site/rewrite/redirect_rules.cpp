#include "redirect_rules.h"

#include <fmt/format.h>

#include "collage/generation.h"
#include "collage/log.h"
#include "collage/path.h"
#include "rewrite_rule.h"

namespace collage::rewrite {
namespace {

// Apache's names for the statuses, and the numbers.
int redirect_status(std::string_view word) {
  if (word == "permanent") {
    return 301;
  }
  if (word == "temp") {
    return 302;
  }
  if (word == "seeother") {
    return 303;
  }
  if (word == "gone") {
    return 410;
  }
  for (const int code : {301, 302, 303, 307, 308, 410}) {
    if (word == std::to_string(code)) {
      return code;
    }
  }
  return 0;
}

void note(RewriteContext& ctx, std::string line) {
  if (ctx.trace != nullptr) {
    ctx.trace->push_back(std::move(line));
  }
}

// The query the client sent goes along unless the target names its own.
void keep_query(const Request& request, std::string& location) {
  if (!request.query.empty() && location.find('?') == std::string::npos) {
    location += '?';
    location += request.query;
  }
}

bool answer_redirect(RewriteContext& ctx, int status, std::string location, std::string_view why) {
  note(ctx, fmt::format("rewrite: {}: redirect {} to {}", why, status, location));
  ctx.answer = RouteAnswer{status, {}};
  if (!location.empty()) {
    ctx.answer.headers.emplace_back("Location", std::move(location));
  }
  return true;
}

// Whether a decoded candidate path can be used as it is: absolute, no dot segments, no NUL.
bool clean_path(std::string_view path) {
  if (!path.starts_with('/') || path.find('\0') != std::string_view::npos) {
    return false;
  }
  return path.find("/../") == std::string_view::npos &&
         path.find("/./") == std::string_view::npos && !path.ends_with("/..") &&
         !path.ends_with("/.");
}

}  // namespace

bool parse_redirect(std::string_view entry, bool match, Redirect& redirect, std::string& error) {
  redirect.source = entry;
  std::vector<std::string> words = split_words(entry);
  std::size_t next = 0;
  if (!words.empty() && redirect_status(words[0]) != 0) {
    redirect.status = redirect_status(words[0]);
    next = 1;
  }
  const std::size_t wanted = redirect.status == 410 ? 1 : 2;
  if (words.size() != next + wanted) {
    error = match ? "takes [STATUS] REGEX TARGET (STATUS: 301, 302, 303, 307, 308, permanent, "
                    "temp, seeother; or gone and no target), got '" +
                        std::string(entry) + "'"
                  : "takes [STATUS] PATH TARGET (STATUS: 301, 302, 303, 307, 308, permanent, "
                    "temp, seeother; or gone and no target), got '" +
                        std::string(entry) + "'";
    return false;
  }
  if (match) {
    redirect.pattern = Pattern::compile(words[next], false, error);
    if (!redirect.pattern) {
      return false;
    }
  } else {
    redirect.from = words[next];
    if (!redirect.from.starts_with('/')) {
      error = "the path to redirect must start with '/', got '" + redirect.from + "'";
      return false;
    }
    while (redirect.from.size() > 1 && redirect.from.back() == '/') {
      redirect.from.pop_back();
    }
  }
  if (wanted == 2) {
    redirect.target.emplace();
    if (!redirect.target->parse(words[next + 1], error, /*condition_groups=*/false)) {
      return false;
    }
  }
  return true;
}

bool run_redirect(const Redirect& redirect, RewriteContext& ctx) {
  const Request& request = ctx.request;
  const std::string_view path = request.path;
  std::string location;
  if (redirect.pattern) {
    Captures groups{};
    const MatchResult m = redirect.pattern->match(path, groups);
    if (m == MatchResult::too_costly) {
      COLLAGE_LOG(LogLevel::error, "COL-REWRITE-0001",
                  "{}: RedirectMatch pattern {} gave up on a costly subject; answered 500",
                  printable(request.target), redirect.pattern->text());
      ctx.answer = RouteAnswer{500, {}};
      return true;
    }
    if (m != MatchResult::match) {
      return false;
    }
    if (redirect.target) {
      redirect.target->expand(ExpandInput{request, ctx.location, &groups}, true, location);
    }
  } else {
    const std::string_view from = redirect.from;
    const bool under = from == "/" || (path.starts_with(from) &&
                                       (path.size() == from.size() || path[from.size()] == '/'));
    if (!under) {
      return false;
    }
    if (redirect.target) {
      redirect.target->expand(ExpandInput{request, ctx.location}, true, location);
      // The rest of the path after the prefix goes along, encoded again.
      std::string_view rest = path.substr(from == "/" ? 0 : from.size());
      if (location.ends_with('/') && rest.starts_with('/')) {
        rest.remove_prefix(1);
      }
      append_url_encoded(rest, location);
    }
  }
  if (redirect.target) {
    keep_query(request, location);
  }
  return answer_redirect(ctx, redirect.status, std::move(location), redirect.source);
}

bool parse_https_port(std::string_view text, std::uint16_t& port, std::string& error) {
  if (text == "off") {
    port = 0;
    return true;
  }
  if (text == "on") {
    port = 443;
    return true;
  }
  const int value = std::atoi(std::string(text).c_str());
  if (value < 1 || value > 65535 || std::to_string(value) != text) {
    error = "takes on, off or the HTTPS port (1-65535), not '" + std::string(text) + "'";
    return false;
  }
  port = static_cast<std::uint16_t>(value);
  return true;
}

bool run_https_redirect(std::uint16_t port, RewriteContext& ctx) {
  const Request& request = ctx.request;
  if (port == 0 || request.secure) {
    return false;
  }
  std::string_view host = request.host;
  if (host.empty() && request.peer != nullptr) {
    host = request.peer->local_address;
  }
  std::string location = "https://";
  const bool ipv6 = host.find(':') != std::string_view::npos;
  location += ipv6 ? "[" : "";
  location += host;
  location += ipv6 ? "]" : "";
  if (port != 443) {
    location += ':';
    location += std::to_string(port);
  }
  location += request.target.empty() ? std::string_view("/") : request.target;
  // A method other than GET and HEAD keeps its method and body with 308 (RFC 9110 §15.4.9).
  const bool safe = request.method == Method::get || request.method == Method::head;
  return answer_redirect(ctx, safe ? 301 : 308, std::move(location), "RedirectToHttps");
}

bool parse_try_files(const std::vector<std::string>& words, TryFiles& tries, std::string& error) {
  if (words.size() < 2) {
    error = "takes candidates and a fallback, e.g. $uri $uri/ /index.php?$args";
    return false;
  }
  for (std::size_t i = 0; i + 1 < words.size(); ++i) {
    UrlTemplate candidate;
    if (!candidate.parse(words[i], error, /*condition_groups=*/false)) {
      return false;
    }
    tries.candidates.push_back(std::move(candidate));
  }
  const std::string& last = words.back();
  if (last.starts_with('@')) {
    tries.named = last;
  } else if (last.starts_with('=')) {
    tries.code = std::atoi(last.c_str() + 1);
    if (tries.code < 200 || tries.code > 599) {
      error = "the fallback =CODE takes a status from 200 to 599, not '" + last + "'";
      return false;
    }
  } else {
    tries.fallback.emplace();
    if (!tries.fallback->parse(last, error, /*condition_groups=*/false)) {
      return false;
    }
  }
  return true;
}

RewriteStep run_try_files(const TryFiles& tries, RewriteContext& ctx) {
  Request& request = ctx.request;
  const Store* store = ctx.location.store.get();
  std::string candidate;
  for (const UrlTemplate& tried : tries.candidates) {
    candidate.clear();
    tried.expand(ExpandInput{request, ctx.location}, /*for_url=*/false, candidate);
    if (!clean_path(candidate) || store == nullptr) {
      continue;
    }
    const bool directory = candidate.ends_with('/');
    const PathKind kind = store->path_kind(ctx.location, candidate);
    if (kind == (directory ? PathKind::directory : PathKind::file)) {
      note(ctx, fmt::format("try-files: {} exists, served here", candidate));
      if (candidate != request.path) {
        request.path = std::move(candidate);
      }
      return RewriteStep::next;
    }
  }
  if (tries.code != 0) {
    note(ctx, fmt::format("try-files: nothing exists, answered {}", tries.code));
    ctx.answer = RouteAnswer{tries.code, {}};
    return RewriteStep::answered;
  }
  if (!tries.named.empty()) {
    note(ctx, fmt::format("try-files: nothing exists, to location {}", tries.named));
    ctx.named_location = tries.named;
    return RewriteStep::reroute;
  }
  std::string target;
  tries.fallback->expand(ExpandInput{request, ctx.location}, /*for_url=*/true, target);
  note(ctx, fmt::format("try-files: nothing exists, routed to {}", target));
  if (!apply_internal_target(target, false, false, ctx)) {
    COLLAGE_LOG(LogLevel::error, "COL-REWRITE-0002",
                "{}: TryFiles made {}, which is not a path a server would accept",
                printable(request.target), printable(target));
    ctx.answer = RouteAnswer{400, {}};
    return RewriteStep::answered;
  }
  return RewriteStep::reroute;  // the new location's own rules run too; a loop is cut at 10
}

}  // namespace collage::rewrite
