#pragma once
// Redirect (a path prefix to a target, the rest of the path kept, as Apache's Redirect),
// RedirectMatch (a regular expression with groups), RedirectToHttps, and TryFiles (nginx's
// try_files): parsed once at load, run by the rewrite phase.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collage/site_rules.h"
#include "pattern.h"
#include "url_template.h"

namespace collage::rewrite {

struct Redirect {
  int status = 302;
  std::string from;                   // Redirect: the path prefix
  std::optional<Pattern> pattern;     // RedirectMatch
  std::optional<UrlTemplate> target;  // empty for 410 Gone
  std::string source;
};

bool parse_redirect(std::string_view entry, bool match, Redirect& redirect, std::string& error);
// Answers the request when the redirect applies.
bool run_redirect(const Redirect& redirect, RewriteContext& ctx);

// RedirectToHttps: "off", "on" (port 443) or the HTTPS port.
bool parse_https_port(std::string_view text, std::uint16_t& port, std::string& error);
bool run_https_redirect(std::uint16_t port, RewriteContext& ctx);

struct TryFiles {
  std::vector<UrlTemplate> candidates;  // $uri, $uri/, …: the first that exists is served
  // The last word: a URL to route to, @name (a named location) or =code (an answer).
  std::optional<UrlTemplate> fallback;
  std::string named;
  int code = 0;
};

bool parse_try_files(const std::vector<std::string>& words, TryFiles& tries, std::string& error);
RewriteStep run_try_files(const TryFiles& tries, RewriteContext& ctx);

}  // namespace collage::rewrite
