#pragma once
// gophermap files in the syntax Gophernicus and Bucktooth share, rendered into menu text.
//
//   Xdisplay<TAB>selector<TAB>host<TAB>port   an item; missing fields default to this server,
//                                           a missing selector to the display text
//   text without a tab                      an info line ("!title" lines too)
//   # comment                               ignored
//   -name                                   hides name from the generated listing
//   *                                       the generated listing of this directory goes here
//   .                                       end of the map
//   =command, :ext=type, ~, %               not supported (never executed); skipped
//
// Relative selectors resolve against the map's directory; absolute ones against the hole's root
// (behind the location prefix); "URL:" selectors and items on other servers stay as written.

#include <functional>
#include <set>
#include <string>
#include <string_view>

namespace collage::gopher {

struct MenuContext {
  std::string_view directory_selector;  // selector of the map's directory, ending in '/'
  std::string_view location_prefix;     // "" for "/", else e.g. "/gopher"
  std::string_view host;                // this server, as menus should name it
  std::string_view port;
};

using ListingWriter = std::function<void(const std::set<std::string>& hidden, std::string& out)>;

// Renders map_text to menu lines (no final "."), calling write_listing where a '*' line stands.
std::string render_gophermap(std::string_view map_text, const MenuContext& context,
                             const ListingWriter& write_listing);

}  // namespace collage::gopher
