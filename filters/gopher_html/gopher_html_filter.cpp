#include "gopher_html_filter.h"

#include "collage/middle_end.h"
#include "collage/page.h"
#include "collage/path.h"
#include "collage/registry.h"

namespace collage::gopher_html {
namespace {

std::string_view type_label(char type) {
  switch (type) {
    case '0': return "TXT";
    case '1': return "DIR";
    case '7': return "ASK";
    case '9':
    case '5': return "BIN";
    case 'g':
    case 'I': return "IMG";
    case 'h': return "HTM";
    case 's': return "SND";
    case 'd': return "DOC";
    case ';': return "VID";
    case '8':
    case 'T': return "TEL";
    case '3': return "ERR";
    default: return "???";
  }
}

bool safe_url_scheme(std::string_view url) {
  for (std::string_view scheme : {"http://", "https://", "gopher://", "ftp://", "mailto:"}) {
    if (url.starts_with(scheme)) {
      return true;
    }
  }
  return false;
}

std::string collect_body(const Entity& entity) {
  std::string text;
  entity.body.copy_to(text);  // a menu from a file (a gophermap sent as is) is read in too
  return text;
}

}  // namespace

std::string render_menu_html(std::string_view menu_text, const MenuOrigin& origin,
                             std::string_view title) {
  std::string html;
  append_page_start(title, html);
  append_breadcrumbs(title, html);
  html += "<h1>";
  append_html_escaped(title, html);
  html += "</h1>\n<p class=\"muted\">A gopher menu, shown as a web page.</p>\n";
  if (const std::size_t cut = title.find_last_of('/', title.size() - 2);
      title.size() > 1 && cut != std::string_view::npos) {
    // The menu one level up; the gateway's own root has none.
    std::string up;
    append_url_encoded_path(title.substr(0, cut + 1), up);
    html += "<p><a href=\"";
    append_html_escaped(up, html);
    html += "\" rel=\"up\">\u2191 Up one level</a></p>\n";
  }
  html += "<div class=\"card\"><pre>\n";
  for (const MenuItem& item : parse_menu(menu_text)) {
    if (item.type == 'i' || item.type == '3') {
      if (item.type == '3') {
        html += "<span class=\"t muted\">[ERR]</span> ";
      }
      append_html_escaped(item.display, html);
      html += '\n';
      continue;
    }
    std::string href;
    if (item.selector.starts_with("URL:")) {
      const std::string_view url = std::string_view(item.selector).substr(4);
      if (safe_url_scheme(url)) {
        href = url;
      }
    } else if (item.type == '8' || item.type == 'T') {
      href = "telnet://" + item.host + (item.port.empty() ? "" : ":" + item.port);
    } else if (item.host == origin.host && item.port == origin.port &&
               item.selector.starts_with('/')) {
      append_url_encoded_path(item.selector, href);
    } else {
      href = "gopher://" + item.host + ":" + item.port + "/" + item.type;
      append_url_encoded_path(item.selector, href);
    }
    html += "<span class=\"t muted\">[";
    html += type_label(item.type);
    html += "]</span> ";
    if (href.empty()) {
      append_html_escaped(item.display, html);
    } else {
      html += "<a href=\"";
      append_html_escaped(href, html);
      html += "\">";
      append_html_escaped(item.display, html);
      html += "</a>";
    }
    html += '\n';
  }
  html += "</pre></div>\n";
  append_page_end(html);
  return html;
}

FilterStatus GopherHtmlFilter::start(RequestContext& ctx, Entity& entity,
                                     std::unique_ptr<FilterInstance>&) const {
  std::string html = render_menu_html(collect_body(entity), menu_origin(ctx), ctx.request.path);
  entity.set_body(std::move(html), "text/html; charset=utf-8");
  return FilterStatus::pass;
}

void register_module(Registry& registry) {
  registry.add_module({"gopher-html", ModuleKind::filter, "renders Gopher menus as HTML"});
  FilterRegistration filter;
  filter.name = "gopher-html";
  filter.capabilities.stage = FilterStage::content;
  filter.capabilities.methods = MethodSet{Method::get, Method::head};
  filter.capabilities.statuses = {200};
  filter.capabilities.content_types = {kMenuContentType};
  filter.capabilities.protocols = {"http1", "h2"};
  filter.capabilities.needs_whole_body = true;
  filter.capabilities.over_limit = OverLimit::fail;  // a raw menu is no page for a browser
  filter.capabilities.before = {"ranges"};
  filter.on_by_default = true;
  filter.factory = [](const Scope&, ConfigErrors&) { return std::make_unique<GopherHtmlFilter>(); };
  registry.add_filter(std::move(filter));
}

}  // namespace collage::gopher_html
