#include "gophermap.h"

#include <vector>

#include "collage/menu.h"

namespace collage::gopher {
namespace {

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const std::size_t lf = text.find('\n');
    std::string_view line = text.substr(0, lf);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    lines.push_back(line);
    if (lf == std::string_view::npos) {
      break;
    }
    text.remove_prefix(lf + 1);
  }
  return lines;
}

std::string resolve_selector(std::string_view selector, const MenuContext& context) {
  if (selector.starts_with("URL:") || selector.starts_with("GET ")) {
    return std::string(selector);
  }
  if (selector.starts_with('/')) {
    return std::string(context.location_prefix) + std::string(selector);
  }
  return std::string(context.directory_selector) + std::string(selector);
}

}  // namespace

std::string render_gophermap(std::string_view map_text, const MenuContext& context,
                             const ListingWriter& write_listing) {
  const std::vector<std::string_view> lines = split_lines(map_text);
  std::set<std::string> hidden{"gophermap"};
  for (std::string_view line : lines) {
    if (line.size() > 1 && line.front() == '-' && line.find('\t') == std::string_view::npos) {
      hidden.emplace(line.substr(1));
    }
  }
  std::string menu;
  for (std::string_view line : lines) {
    if (line == ".") {
      break;
    }
    if (line == "*") {
      write_listing(hidden, menu);
      break;  // as in Gophernicus, the listing ends the map
    }
    const std::size_t tab = line.find('\t');
    if (tab == std::string_view::npos) {
      if (line.empty()) {
        append_menu_info("", menu);
        continue;
      }
      switch (line.front()) {
        case '#':
        case '-':
        case '=':
        case ':':
        case '~':
        case '%': continue;
        case '!': append_menu_info(line.substr(1), menu); continue;
        default: append_menu_info(line, menu); continue;
      }
    }
    if (tab == 0 || static_cast<unsigned char>(line.front()) < 0x20 || line.front() == 0x7f) {
      // No item type before the tab (or a control character as one): text, not a broken item
      // (a fuzzer found a CR typed item that split the menu line).
      append_menu_info(line, menu);
      continue;
    }
    MenuItem item;
    item.type = line.front();
    item.display = std::string(line.substr(1, tab - 1));
    std::string_view rest = line.substr(tab + 1);
    std::string_view fields[3];
    for (int i = 0; i < 3; ++i) {
      const std::size_t next = rest.find('\t');
      fields[i] = rest.substr(0, next);
      if (next == std::string_view::npos) {
        break;
      }
      rest.remove_prefix(next + 1);
    }
    const std::string_view selector =
        fields[0].empty() ? std::string_view(item.display) : fields[0];
    const bool external = !fields[1].empty() && fields[1] != context.host;
    item.host = fields[1].empty() ? std::string(context.host) : std::string(fields[1]);
    item.port = fields[2].empty() ? (external ? std::string("70") : std::string(context.port))
                                  : std::string(fields[2]);
    item.selector = external ? std::string(selector) : resolve_selector(selector, context);
    if (item.type == 'i') {
      append_menu_info(item.display, menu);
      continue;
    }
    append_menu_line(item, menu);
  }
  return menu;
}

}  // namespace collage::gopher
