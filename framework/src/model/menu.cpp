#include "collage/menu.h"

#include "collage/middle_end.h"

namespace collage {
namespace {

void append_field(std::string_view text, std::string& out) {
  for (char c : text) {
    out += (c == '\t' || c == '\r' || c == '\n') ? ' ' : c;
  }
}

}  // namespace

void append_menu_line(const MenuItem& item, std::string& out) {
  out += item.type;
  append_field(item.display, out);
  out += '\t';
  append_field(item.selector, out);
  out += '\t';
  append_field(item.host, out);
  out += '\t';
  append_field(item.port, out);
  out += "\r\n";
}

void append_menu_info(std::string_view text, std::string& out) {
  out += 'i';
  append_field(text, out);
  out += "\t\tnull.host\t1\r\n";
}

MenuOrigin menu_origin(const RequestContext& ctx) {
  MenuOrigin origin;
  const PeerInfo* peer = ctx.request.peer;
  if (const auto& name = ctx.location.place.server_name) {
    origin.host = *name;
  } else if (peer != nullptr) {
    origin.host = peer->local_address;
  }
  if (peer != nullptr) {
    std::uint16_t port = peer->local_port;
    // A listener reached through port forwarding says which port clients use (public_port).
    if (ctx.generation != nullptr) {
      for (const Listener& l : ctx.generation->listeners()) {
        if (l.config.port == peer->local_port && l.config.public_port != 0) {
          port = l.config.public_port;
        }
      }
    }
    origin.port = std::to_string(port);
  }
  return origin;
}

std::vector<MenuItem> parse_menu(std::string_view text) {
  std::vector<MenuItem> items;
  while (!text.empty()) {
    const std::size_t lf = text.find('\n');
    std::string_view line = text.substr(0, lf);
    text = lf == std::string_view::npos ? std::string_view() : text.substr(lf + 1);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line == ".") {
      break;
    }
    if (line.empty()) {
      continue;
    }
    MenuItem item;
    item.type = line.front();
    line.remove_prefix(1);
    std::string_view fields[4];
    for (int i = 0; i < 4; ++i) {
      const std::size_t tab = line.find('\t');
      fields[i] = line.substr(0, tab);
      if (tab == std::string_view::npos) {
        line = {};
        if (i == 0) {
          item.type = 'i';  // no tab at all: text to show
          fields[0] = std::string_view(fields[0].data() - 1, fields[0].size() + 1);
        }
        break;
      }
      line.remove_prefix(tab + 1);
    }
    item.display = fields[0];
    item.selector = fields[1];
    item.host = fields[2];
    item.port = fields[3];
    items.push_back(std::move(item));
  }
  return items;
}

}  // namespace collage
