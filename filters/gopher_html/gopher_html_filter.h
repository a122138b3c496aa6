#pragma once
// Renders menus (text/x-gopher-menu, see collage/menu.h) as HTML for HTTP clients, so a gopher
// hole is browsable from a web browser: items on this server become links on this server,
// items elsewhere become gopher:// links, "URL:" items become plain links.

#include <string>
#include <string_view>

#include "collage/filter.h"
#include "collage/menu.h"

namespace collage::gopher_html {

// The HTML page for menu_text. Items whose host and port equal `origin` link to their selector
// on this server; `title` heads the page.
std::string render_menu_html(std::string_view menu_text, const MenuOrigin& origin,
                             std::string_view title);

class GopherHtmlFilter final : public Filter {
 public:
  FilterStatus start(RequestContext& ctx, Entity& entity,
                     std::unique_ptr<FilterInstance>& instance) const override;
};

}  // namespace collage::gopher_html
