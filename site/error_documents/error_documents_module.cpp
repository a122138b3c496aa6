// Error documents (Apache's ErrorDocument, nginx's error_page): the server's own page for an
// error status is replaced by a page of the site (an internal request, the status kept), a
// redirect, or a line of text. HTTP only: FTP and Gopher keep their own error replies. A body a
// store made itself (a script's or an upstream's 404 page) is left as it is.

#include <algorithm>

#include "collage/log.h"
#include "collage/middle_end.h"
#include "collage/registry.h"
#include "collage/status.h"

namespace collage::error_documents {
namespace {

struct Written {
  std::vector<std::string> error_document;
};

const Directive kDirectives[] = {
    {.name = "ErrorDocument",
     .type = ArgType::entries,
     .contexts = kAnyContext,
     .help = "CODE... TARGET: for these error statuses, a page of the site (/errors/404.html, "
             "the status kept), a redirect (https://…) or \"text\".",
     .field = bind<&Written::error_document>()},
};

struct Document {
  enum class Kind : std::uint8_t { page, redirect, text };
  std::vector<int> statuses;
  Kind kind = Kind::page;
  std::string target;
};

// Fields of the error that say how to go on; they stay when the page is replaced.
constexpr std::string_view kKeptFields[] = {"Allow", "WWW-Authenticate", "Proxy-Authenticate",
                                            "Retry-After", "Content-Range"};
// Fields of the page that describe its body.
constexpr std::string_view kPageFields[] = {"Content-Encoding", "Content-Language", "Vary"};

class ErrorDocuments final : public SiteRules {
 public:
  std::vector<Document> documents;

  bool handles_errors() const override { return true; }
  // The quick path answers only successful hits, which these rules never touch.
  bool quick_path_safe() const override { return true; }

  Task<void> error_response(RequestContext& ctx, Entity& out) const override {
    const Request& request = ctx.request;
    if ((request.protocol != "http1" && request.protocol != "h2") ||
        out.error_page_of != out.status) {
      co_return;  // another protocol, or a body the store made itself
    }
    const int status = out.status;
    const auto found = std::find_if(documents.begin(), documents.end(), [&](const Document& d) {
      return std::find(d.statuses.begin(), d.statuses.end(), status) != d.statuses.end();
    });
    if (found == documents.end()) {
      co_return;
    }
    if (found->kind == Document::Kind::redirect) {
      out.reset();
      out.set_body(redirect_page(302, found->target), "text/html; charset=utf-8");
      out.status = 302;
      out.headers.set("Location", found->target);
      co_return;
    }
    if (found->kind == Document::Kind::text) {
      Metadata kept = kept_fields(out);
      out.set_body(found->target, "text/html; charset=utf-8");
      out.status = status;
      out.headers = std::move(kept);
      co_return;
    }
    Entity page;
    co_await respond_internal(ctx, found->target, page);
    if (page.status != 200) {
      COLLAGE_LOG(LogLevel::warn, "COL-ERRDOC-0001",
                  "{}: the error document {} for {} answered {}; the server's own page is sent",
                  printable(request.path), printable(found->target), status, page.status);
      co_return;
    }
    Metadata headers = kept_fields(out);
    for (const std::string_view name : kPageFields) {
      if (page.headers.contains(name)) {
        headers.add(std::string(name), std::string(page.headers.get(name)));
      }
    }
    page.status = status;
    page.etag.clear();  // validators of the page are not those of the missing resource
    page.last_modified.reset();
    page.headers = std::move(headers);
    out = std::move(page);
  }

 private:
  static Metadata kept_fields(const Entity& out) {
    Metadata kept;
    for (const std::string_view name : kKeptFields) {
      if (out.headers.contains(name)) {
        kept.add(std::string(name), std::string(out.headers.get(name)));
      }
    }
    return kept;
  }
};

bool parse_document(std::string_view entry, Document& document, std::string& error) {
  std::string_view rest = trim_ows(entry);
  while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') {
    const std::size_t end = std::min(rest.find_first_of(" \t"), rest.size());
    const int status = std::atoi(std::string(rest.substr(0, end)).c_str());
    if (status < 400 || status > 599) {
      error = "takes error statuses (400-599), not " + std::string(rest.substr(0, end));
      return false;
    }
    document.statuses.push_back(status);
    rest = trim_ows(rest.substr(end));
  }
  if (document.statuses.empty() || rest.empty()) {
    error = "takes CODE... TARGET, e.g. 404 /errors/404.html, got '" + std::string(entry) + "'";
    return false;
  }
  if (rest.front() == '"') {
    document.kind = Document::Kind::text;
    rest.remove_prefix(1);
    if (rest.ends_with('"')) {
      rest.remove_suffix(1);
    }
  } else if (rest.starts_with("http://") || rest.starts_with("https://")) {
    document.kind = Document::Kind::redirect;
  } else if (rest.front() != '/') {
    error = "the target is a path (/errors/404.html), a URL or \"text\", not '" +
            std::string(rest) + "'";
    return false;
  }
  document.target = rest;
  return true;
}

std::unique_ptr<SiteRules> make_rules(const Scope& scope, ConfigErrors& errors) {
  const Written written = scope.read<Written>(kDirectives);
  if (written.error_document.empty()) {
    return nullptr;
  }
  auto made = std::make_unique<ErrorDocuments>();
  for (const std::string& entry : written.error_document) {
    Document document;
    std::string error;
    if (parse_document(entry, document, error)) {
      made->documents.push_back(std::move(document));
    } else {
      errors.add(scope.where("ErrorDocument"), "ErrorDocument " + error);
    }
  }
  return made;
}

}  // namespace

void register_module(Registry& registry) {
  registry.add_module(
      {"error_documents", ModuleKind::site, "the site's own pages for error statuses"},
      kDirectives);
  registry.add_site_rules("error_documents", make_rules);
}

}  // namespace collage::error_documents
