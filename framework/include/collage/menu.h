#pragma once
// Menus in Gopher's format (RFC 1436): one item per line, "type display TAB selector TAB host TAB
// port CRLF". A store answers a directory with a menu entity (content type kMenuContentType, no
// final "." line); the Gopher front end sends it as it is, and a filter renders it as HTML.

#include <string>
#include <string_view>
#include <vector>

namespace collage {

struct RequestContext;

inline constexpr std::string_view kMenuContentType = "text/x-gopher-menu";

struct MenuItem {
  char type = 'i';
  std::string display;
  std::string selector;
  std::string host;
  std::string port;
};

// Appends one well-formed menu line; tabs and line breaks inside fields are replaced by spaces.
void append_menu_line(const MenuItem& item, std::string& out);
// An info ('i') line carrying text only.
void append_menu_info(std::string_view text, std::string& out);

// The host and port that menus should give for items on this server: ServerName where set, else
// the address the request arrived at; the port it arrived at, or its listener's public_port.
struct MenuOrigin {
  std::string host;
  std::string port;
};
MenuOrigin menu_origin(const RequestContext& ctx);

// Parses menu text (lines end in CRLF or LF; a "." line ends the menu). Lines without a tab
// become info items.
std::vector<MenuItem> parse_menu(std::string_view text);

}  // namespace collage
