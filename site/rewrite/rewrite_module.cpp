// The rewrite module: redirects, rewrite rules and try-files, run in the rewrite phase (after a
// location is picked, before access checks). FTP is left alone: it walks the tree as it is.

#include "collage/registry.h"
#include "redirect_rules.h"
#include "rewrite_rule.h"

namespace collage::rewrite {
namespace {

struct Written {
  std::vector<std::string> redirect;
  std::vector<std::string> redirect_match;
  std::string redirect_to_https;
  std::vector<std::string> rewrite_rule;
  std::vector<std::string> try_files;
};

const Directive kDirectives[] = {
    {.name = "Redirect",
     .type = ArgType::entries,
     .contexts = kVirtualHostContext | kLocationContext,
     .help = "[STATUS] PATH TARGET: a path prefix redirected, the rest of the path and the query "
             "kept (Apache's Redirect); STATUS 301, 302 (default), 303, 307, 308, or gone.",
     .field = bind<&Written::redirect>()},
    {.name = "RedirectMatch",
     .type = ArgType::entries,
     .contexts = kVirtualHostContext | kLocationContext,
     .help = "[STATUS] REGEX TARGET: a redirect whose target uses the path's groups $1..$9; "
             "the query is kept unless the target has one.",
     .field = bind<&Written::redirect_match>()},
    {.name = "RedirectToHttps",
     .type = ArgType::string,
     .contexts = kVirtualHostContext | kLocationContext,
     .default_value = "off",
     .help = "on, or the HTTPS port: requests that did not come over TLS are redirected to "
             "https://host[:port] with the same target (301; 308 for methods other than GET).",
     .field = bind<&Written::redirect_to_https>()},
    {.name = "RewriteRule",
     .type = ArgType::entries,
     .contexts = kVirtualHostContext | kLocationContext,
     .help = "REGEX TARGET [FLAGS] [if TEST CONDITION [NC,OR]]...: mod_rewrite's rules, "
             "conditions on the same line; see docs/site-directives.md.",
     .field = bind<&Written::rewrite_rule>()},
    {.name = "TryFiles",
     .type = ArgType::list,
     .contexts = kVirtualHostContext | kLocationContext,
     .help = "Candidates tried in order ($uri, $uri/), then a fallback URL, @name or =CODE "
             "(nginx's try_files): the front-controller pattern.",
     .field = bind<&Written::try_files>()},
};

class RewriteRules final : public SiteRules {
 public:
  std::uint16_t https_port = 0;
  std::vector<Redirect> redirects;
  std::vector<RewriteRule> rules;
  std::optional<TryFiles> tries;

  RewriteStep rewrite(RewriteContext& ctx) const override {
    if (ctx.request.protocol == "ftp") {
      return RewriteStep::next;
    }
    const bool http = speaks_http(ctx.request);
    if (http && run_https_redirect(https_port, ctx)) {
      return RewriteStep::answered;
    }
    for (const Redirect& redirect : redirects) {
      if (http && run_redirect(redirect, ctx)) {
        return RewriteStep::answered;
      }
    }
    if (!rules.empty()) {
      const RewriteStep step = run_rewrite_rules(rules, ctx);
      if (step != RewriteStep::next) {
        return step;
      }
    }
    return tries ? run_try_files(*tries, ctx) : RewriteStep::next;
  }
};

std::unique_ptr<SiteRules> make_rules(const Scope& scope, ConfigErrors& errors) {
  const Written written = scope.read<Written>(kDirectives);
  auto made = std::make_unique<RewriteRules>();
  std::string error;
  if (!parse_https_port(written.redirect_to_https, made->https_port, error)) {
    errors.add(scope.where("RedirectToHttps"), "RedirectToHttps " + error);
  }
  for (const auto& [name, entries, match] :
       {std::tuple{"Redirect", &written.redirect, false},
        std::tuple{"RedirectMatch", &written.redirect_match, true}}) {
    for (const std::string& entry : *entries) {
      Redirect redirect;
      if (parse_redirect(entry, match, redirect, error)) {
        made->redirects.push_back(std::move(redirect));
      } else {
        errors.add(scope.where(name), std::string(name) + " " + error);
      }
    }
  }
  for (const std::string& entry : written.rewrite_rule) {
    RewriteRule rule;
    if (parse_rewrite_rule(entry, rule, error)) {
      made->rules.push_back(std::move(rule));
    } else {
      errors.add(scope.where("RewriteRule"), "RewriteRule " + error);
    }
  }
  if (!written.try_files.empty()) {
    TryFiles tries;
    if (parse_try_files(written.try_files, tries, error)) {
      made->tries = std::move(tries);
    } else {
      errors.add(scope.where("TryFiles"), "TryFiles " + error);
    }
  }
  if (made->https_port == 0 && made->redirects.empty() && made->rules.empty() && !made->tries) {
    return nullptr;
  }
  return made;
}

}  // namespace

void register_module(Registry& registry) {
  registry.add_module({"rewrite", ModuleKind::site, "redirects, rewrite rules and try-files"},
                      kDirectives);
  registry.add_site_rules("rewrite", make_rules);
}

}  // namespace collage::rewrite
