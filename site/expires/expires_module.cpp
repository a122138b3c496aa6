// The expires module (Apache's mod_expires, nginx's expires): Cache-Control max-age and Expires
// by media type or for a whole location, added to what the store made before the cache keeps it,
// so the built-in cache, downstream caches and browsers all see the same lifetime.

#include <algorithm>
#include <chrono>

#include "collage/http_date.h"
#include "collage/middle_end.h"
#include "collage/registry.h"

namespace collage::expires {
namespace {

struct Written {
  std::optional<std::chrono::milliseconds> expires_default;
  std::vector<std::string> expires_by_type;
};

const Directive kDirectives[] = {
    {.name = "ExpiresDefault",
     .type = ArgType::duration,
     .contexts = kAnyContext,
     .help = "Lifetime given to answers here that carry none (Cache-Control max-age and "
             "Expires, from the time of the request), e.g. 1h. Unset: none.",
     .field = bind<&Written::expires_default>()},
    {.name = "ExpiresByType",
     .type = ArgType::entries,
     .contexts = kAnyContext,
     .help = "TYPE DURATION: the lifetime for a media type (text/css 7d) or a family "
             "(image/* 30d); wins over ExpiresDefault.",
     .field = bind<&Written::expires_by_type>()},
};

struct ByType {
  std::string type;  // "text/css" or "image/" for image/*
  bool family = false;
  std::chrono::seconds lifetime{0};
};

class ExpiresRules final : public SiteRules {
 public:
  std::optional<std::chrono::seconds> fallback;
  std::vector<ByType> by_type;

  void store_head(RequestContext& ctx, Entity& out) const override {
    const Request& request = ctx.request;
    if ((request.method != Method::get && request.method != Method::head) ||
        (out.status != 200 && out.status != 203 && out.status != 206 && out.status != 300 &&
         out.status != 301 && out.status != 308)) {
      return;
    }
    // What the store (a script, an upstream) said about its own lifetime stands.
    const std::string_view cache_control = out.headers.get("Cache-Control");
    if (out.headers.contains("Expires") ||
        cache_control.find("max-age") != std::string_view::npos ||
        cache_control.find("no-store") != std::string_view::npos) {
      return;
    }
    const std::optional<std::chrono::seconds> lifetime = lifetime_for(out.content_type);
    if (!lifetime) {
      return;
    }
    std::string value(cache_control);
    value += value.empty() ? "" : ", ";
    value += "max-age=" + std::to_string(lifetime->count());
    out.headers.set("Cache-Control", std::move(value));
    const std::time_t when = std::chrono::system_clock::to_time_t(request.received + *lifetime);
    std::string date(kHttpDateLength, ' ');
    format_http_date(when, date.data());
    out.headers.set("Expires", std::move(date));
  }

  bool quick_path_safe() const override { return true; }  // the cache keeps what it added

 private:
  std::optional<std::chrono::seconds> lifetime_for(std::string_view content_type) const {
    std::string_view type = content_type.substr(0, content_type.find(';'));
    while (!type.empty() && type.back() == ' ') {
      type.remove_suffix(1);
    }
    // An exact type wins over a family, whatever the order they were written in.
    const ByType* family = nullptr;
    for (const ByType& rule : by_type) {
      if (!rule.family && iequals(rule.type, type)) {
        return rule.lifetime;
      }
      if (rule.family && family == nullptr && istarts_with(type, rule.type)) {
        family = &rule;
      }
    }
    return family != nullptr ? std::optional(family->lifetime) : fallback;
  }
};

std::unique_ptr<SiteRules> make_rules(const Scope& scope, ConfigErrors& errors) {
  const Written written = scope.read<Written>(kDirectives);
  auto made = std::make_unique<ExpiresRules>();
  if (written.expires_default) {
    made->fallback = std::chrono::duration_cast<std::chrono::seconds>(*written.expires_default);
  }
  static const Directive kDuration{.name = "ExpiresByType", .type = ArgType::duration};
  for (const std::string& entry : written.expires_by_type) {
    const std::size_t space = entry.find_first_of(" \t");
    const std::string type = entry.substr(0, space);
    const std::string duration =
        space == std::string::npos ? "" : std::string(trim_ows(entry.substr(space)));
    DirectiveValue value;
    std::string error;
    if (type.find('/') == std::string::npos || duration.empty() ||
        !parse_directive_value(kDuration, duration, value, error)) {
      errors.add(scope.where("ExpiresByType"),
                 "ExpiresByType takes TYPE DURATION (text/css 7d, image/* 30d), got '" + entry +
                     "'" + (error.empty() ? "" : ": " + error));
      continue;
    }
    ByType rule;
    rule.family = type.ends_with("/*");
    rule.type = rule.family ? type.substr(0, type.size() - 1) : type;
    rule.lifetime = std::chrono::duration_cast<std::chrono::seconds>(
        std::chrono::milliseconds(std::get<std::int64_t>(value)));
    made->by_type.push_back(std::move(rule));
  }
  if (!made->fallback && made->by_type.empty()) {
    return nullptr;
  }
  return made;
}

}  // namespace

void register_module(Registry& registry) {
  registry.add_module({"expires", ModuleKind::site, "Cache-Control and Expires by type"},
                      kDirectives);
  registry.add_site_rules("expires", make_rules);
}

}  // namespace collage::expires
