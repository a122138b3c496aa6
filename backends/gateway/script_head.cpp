#include "script_head.h"

#include <cstdint>

#include "collage/http_date.h"
#include "collage/metadata.h"

namespace collage::gateway {
namespace {

// RFC 9110 §5.6.2 token characters: what a field name may hold.
bool is_token_char(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
    return true;
  }
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// "404 Not Found" or "404": the three digits, 200..599 (a script cannot send 1xx).
bool parse_status(std::string_view value, int& status) {
  if (value.size() < 3 || (value.size() > 3 && value[3] != ' ')) {
    return false;
  }
  int n = 0;
  for (int i = 0; i < 3; ++i) {
    if (value[i] < '0' || value[i] > '9') {
      return false;
    }
    n = n * 10 + (value[i] - '0');
  }
  if (n < 200 || n > 599) {
    return false;
  }
  status = n;
  return true;
}

}  // namespace

bool is_server_owned_field(std::string_view name) {
  for (std::string_view owned :
       {"Connection", "Keep-Alive", "Transfer-Encoding", "Content-Length", "Upgrade",
        "Proxy-Connection", "TE", "Trailer", "Date", "Server"}) {
    if (iequals(name, owned)) {
      return true;
    }
  }
  return false;
}

HeadResult parse_script_head(std::string_view data, bool nph, ScriptHead& head,
                             std::size_t& consumed, std::string& error) {
  head = ScriptHead{};
  std::size_t pos = 0;
  bool first = true;
  while (true) {
    const std::size_t newline = data.find('\n', pos);
    if (newline == std::string_view::npos) {
      return HeadResult::incomplete;
    }
    std::string_view line = data.substr(pos, newline - pos);
    if (line.ends_with('\r')) {
      line.remove_suffix(1);
    }
    pos = newline + 1;
    if (line.empty()) {
      if (first && !nph) {
        error = "the output starts with an empty line (no header)";
        return HeadResult::malformed;
      }
      consumed = pos;
      break;
    }
    if (first && nph) {
      first = false;
      // "HTTP/1.1 200 OK"
      if (!line.starts_with("HTTP/") || line.size() < 12 || line[8] != ' ' ||
          !parse_status(line.substr(9), head.status)) {
        error = "an nph script's first line is not an HTTP status line";
        return HeadResult::malformed;
      }
      continue;
    }
    first = false;
    const std::size_t colon = line.find(':');
    if (colon == 0 || colon == std::string_view::npos) {
      error = "a header line has no field name and colon";
      return HeadResult::malformed;
    }
    const std::string_view name = line.substr(0, colon);
    for (char c : name) {
      if (!is_token_char(c)) {
        error = "a header field name holds a character that is not allowed";
        return HeadResult::malformed;
      }
    }
    const std::string_view value = trim_ows(line.substr(colon + 1));
    for (char c : value) {
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f) {
        error = "a header field value holds a control character";
        return HeadResult::malformed;
      }
    }
    if (iequals(name, "Status")) {
      if (!parse_status(value, head.status)) {
        error = "the Status field is not a status code from 200 to 599";
        return HeadResult::malformed;
      }
    } else if (iequals(name, "Location")) {
      head.location = value;
    } else if (iequals(name, "Content-Type")) {
      head.content_type = value;
    } else if (!is_server_owned_field(name)) {
      head.fields.emplace_back(name, value);
    }
  }
  if (!nph && head.status == 0 && head.location.empty() && head.content_type.empty()) {
    // RFC 3875 §6.2: a document response has a Content-Type, a redirect a Location.
    error = "the header has neither Content-Type, Location nor Status";
    return HeadResult::malformed;
  }
  return HeadResult::complete;
}

void apply_script_head(ScriptHead& head, Entity& out) {
  out.status = head.status != 0 ? head.status : (head.location.empty() ? 200 : 302);
  if (!head.location.empty()) {
    out.headers.set("Location", std::move(head.location));
  }
  if (!head.content_type.empty()) {
    out.set_content_type(std::move(head.content_type));
  }
  for (auto& [name, value] : head.fields) {
    if (iequals(name, "ETag")) {
      out.etag = std::move(value);
    } else if (iequals(name, "Last-Modified")) {
      out.last_modified = parse_http_date(value);
    } else {
      out.headers.add(std::move(name), std::move(value));
    }
  }
}

}  // namespace collage::gateway
