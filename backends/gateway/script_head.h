#pragma once
// The header block a CGI script prints before its body (RFC 3875 §6): "Name: value" lines up to
// an empty line, LF or CRLF. Non-parsed-header scripts print an HTTP status line first.
// Pure parsing, no I/O, so it is unit tested and fuzzed on its own.

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "collage/entity.h"

namespace collage::gateway {

struct ScriptHead {
  int status = 0;  // from "Status:" (or an nph status line); 0 when the script gave none
  std::string location;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> fields;  // every other field, in order
};

enum class HeadResult : std::uint8_t {
  incomplete,  // no empty line yet: read more (unless the limit is reached)
  complete,    // `consumed` bytes were the head, the body starts after them
  malformed,   // `error` says what; the script's output cannot be used
};

// Parses the head at the start of `data`. With `nph`, the first line is "HTTP/x.y NNN reason".
HeadResult parse_script_head(std::string_view data, bool nph, ScriptHead& head,
                             std::size_t& consumed, std::string& error);

// The head onto the response: status (200, or 302 with a Location), type, the other fields
// (ETag and Last-Modified into the entity's typed fields).
void apply_script_head(ScriptHead& head, Entity& out);

// Response fields a script may not set: they describe the connection or the framing, which the
// server decides (RFC 9110 §7.6.1, and Content-Length, which the server checks itself).
bool is_server_owned_field(std::string_view name);

}  // namespace collage::gateway
