// The headers module: response and request header rules, HSTS and CORS for a location.

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "collage/middle_end.h"
#include "collage/registry.h"
#include "cors.h"
#include "header_rules.h"

namespace collage::headers {
namespace {

struct Written {
  std::vector<std::string> header;
  std::vector<std::string> request_header;
  std::string strict_transport_security;
  std::vector<std::string> cors_allow_origins;
  std::vector<std::string> cors_allow_methods;
  std::vector<std::string> cors_allow_headers;
  std::vector<std::string> cors_expose_headers;
  bool cors_allow_credentials = false;
  std::chrono::milliseconds cors_max_age{0};
};

const Directive kDirectives[] = {
    {.name = "Header",
     .type = ArgType::entries,
     .contexts = kAnyContext,
     .help = "[always] set|add|append|unset|setifempty NAME [VALUE]: a response field, on "
             "1xx-3xx answers, or on every answer with always (nginx's add_header ... always).",
     .field = bind<&Written::header>()},
    {.name = "RequestHeader",
     .type = ArgType::entries,
     .contexts = kAnyContext,
     .help = "set|add|append|unset|setifempty NAME [VALUE]: a request field as the store sees "
             "it (an upstream, a CGI script's HTTP_* variables).",
     .field = bind<&Written::request_header>()},
    {.name = "StrictTransportSecurity",
     .type = ArgType::string,
     .contexts = kAnyContext,
     .help = "The Strict-Transport-Security value sent on every answer over TLS (never over "
             "plain HTTP, RFC 6797), e.g. max-age=31536000; includeSubDomains.",
     .field = bind<&Written::strict_transport_security>()},
    {.name = "CorsAllowOrigins",
     .type = ArgType::list,
     .contexts = kAnyContext,
     .help = "Origins allowed to read answers from here (https://app.example), or *; turns "
             "CORS on: preflights are answered, Access-Control-Allow-Origin added.",
     .field = bind<&Written::cors_allow_origins>()},
    {.name = "CorsAllowMethods",
     .type = ArgType::list,
     .contexts = kAnyContext,
     .default_value = "GET HEAD POST",
     .help = "Methods a preflight allows.",
     .field = bind<&Written::cors_allow_methods>()},
    {.name = "CorsAllowHeaders",
     .type = ArgType::list,
     .contexts = kAnyContext,
     .help = "Request fields a preflight allows; * allows what the preflight asks for.",
     .field = bind<&Written::cors_allow_headers>()},
    {.name = "CorsExposeHeaders",
     .type = ArgType::list,
     .contexts = kAnyContext,
     .help = "Response fields scripts of an allowed origin may read.",
     .field = bind<&Written::cors_expose_headers>()},
    {.name = "CorsAllowCredentials",
     .type = ArgType::flag,
     .contexts = kAnyContext,
     .default_value = "off",
     .help = "Let allowed origins send cookies and credentials (the origin is then named, "
             "never *).",
     .field = bind<&Written::cors_allow_credentials>()},
    {.name = "CorsMaxAge",
     .type = ArgType::duration,
     .contexts = kAnyContext,
     .default_value = "0s",
     .help = "How long a browser may keep a preflight's answer (Access-Control-Max-Age); 0s: "
             "not sent.",
     .field = bind<&Written::cors_max_age>()},
};

bool speaks_http(const Request& request) {
  return request.protocol == "http1" || request.protocol == "h2";
}

class HeaderRules final : public SiteRules {
 public:
  std::vector<HeaderRule> response;
  std::vector<HeaderRule> request;
  std::string hsts;
  CorsPolicy cors;

  RewriteStep rewrite(RewriteContext& ctx) const override {
    if (cors.enabled() && speaks_http(ctx.request) &&
        answer_preflight(cors, ctx.request, ctx.answer)) {
      if (ctx.trace != nullptr) {
        ctx.trace->push_back("cors: preflight answered");
      }
      return RewriteStep::answered;
    }
    return RewriteStep::next;
  }

  void before_store(RequestContext& ctx) const override {
    for (const HeaderRule& rule : request) {
      apply_request_rule(rule, ctx.request.headers);
    }
  }

  // The quick path replays the final head, these fields included, keyed by scheme (HSTS) and
  // URL; CORS fields depend on the request's Origin, so CORS keeps it away.
  bool quick_path_safe() const override { return !cors.enabled(); }

  void final_head(RequestContext& ctx, Entity& out) const override {
    if (!speaks_http(ctx.request)) {
      return;
    }
    for (const HeaderRule& rule : response) {
      if (rule.always || out.status < 400) {
        apply_response_rule(rule, out);
      }
    }
    if (!hsts.empty() && ctx.request.secure) {
      out.headers.set("Strict-Transport-Security", hsts);
    }
    if (cors.enabled() &&
        !(ctx.route_answer.status == 204 && ctx.request.method == Method::options)) {
      add_cors_fields(cors, ctx.request, out);
    }
  }
};

std::unique_ptr<SiteRules> make_rules(const Scope& scope, ConfigErrors& errors) {
  const Written written = scope.read<Written>(kDirectives);
  auto made = std::make_unique<HeaderRules>();
  std::string error;
  for (const auto& [name, entries, response] :
       {std::tuple{"Header", &written.header, true},
        std::tuple{"RequestHeader", &written.request_header, false}}) {
    for (const std::string& entry : *entries) {
      HeaderRule rule;
      if (parse_header_rule(entry, response, rule, error)) {
        (response ? made->response : made->request).push_back(std::move(rule));
      } else {
        errors.add(scope.where(name), std::string(name) + " " + error);
      }
    }
  }
  made->hsts = written.strict_transport_security;
  if (made->hsts.find_first_of("\r\n") != std::string::npos) {
    errors.add(scope.where("StrictTransportSecurity"), "StrictTransportSecurity is one line");
  }
  CorsPolicy& cors = made->cors;
  cors.origins = written.cors_allow_origins;
  cors.methods = fmt::format("{}", fmt::join(written.cors_allow_methods, ", "));
  cors.allow_headers = written.cors_allow_headers;
  cors.expose_headers = fmt::format("{}", fmt::join(written.cors_expose_headers, ", "));
  cors.credentials = written.cors_allow_credentials;
  cors.max_age = std::chrono::duration_cast<std::chrono::seconds>(written.cors_max_age);
  for (const std::string& origin : cors.origins) {
    if (origin != "*" && origin != "null" && !origin.starts_with("http://") &&
        !origin.starts_with("https://")) {
      errors.add(scope.where("CorsAllowOrigins"),
                 "CorsAllowOrigins takes origins such as https://app.example (scheme, host, "
                 "port; no path), or *, not '" +
                     origin + "'");
    }
  }
  if (made->response.empty() && made->request.empty() && made->hsts.empty() && !cors.enabled()) {
    return nullptr;
  }
  return made;
}

}  // namespace

void register_module(Registry& registry) {
  registry.add_module({"headers", ModuleKind::site, "response and request headers, HSTS, CORS"},
                      kDirectives);
  registry.add_site_rules("headers", make_rules);
}

}  // namespace collage::headers
