#include "response_head.h"

#include <charconv>

#include "collage/metadata.h"

namespace collage::proxy {
namespace {

bool is_token_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos;
}

}  // namespace

bool has_token(std::string_view value, std::string_view token) {
  while (!value.empty()) {
    const std::size_t comma = value.find(',');
    if (iequals(trim_ows(value.substr(0, comma)), token)) {
      return true;
    }
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
  }
  return false;
}

namespace {

// The last coding of a Transfer-Encoding value.
std::string_view last_coding(std::string_view value) {
  const std::size_t comma = value.rfind(',');
  return trim_ows(comma == std::string_view::npos ? value : value.substr(comma + 1));
}

}  // namespace

bool is_hop_by_hop(std::string_view name, std::string_view connection) {
  for (const std::string_view hop :
       {"Connection", "Keep-Alive", "Proxy-Connection", "TE", "Trailer", "Transfer-Encoding",
        "Upgrade", "Proxy-Authenticate", "Proxy-Authorization"}) {
    if (iequals(name, hop)) {
      return true;
    }
  }
  return !connection.empty() && has_token(connection, name);
}

HeadParse parse_response_head(std::string_view input, bool head_request, ResponseHead& head,
                              std::size_t& consumed) {
  const std::size_t end = input.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    return input.size() > kMaxResponseHead ? HeadParse::bad : HeadParse::need_more;
  }
  if (end + 4 > kMaxResponseHead) {
    return HeadParse::bad;
  }
  head = ResponseHead{};
  std::string_view block = input.substr(0, end + 2);
  // Status line: HTTP/1.x SP 3DIGIT SP reason
  const std::size_t line_end = block.find("\r\n");
  const std::string_view line = block.substr(0, line_end);
  if (line.size() < 12 || !line.starts_with("HTTP/1.") || (line[7] != '0' && line[7] != '1') ||
      line[8] != ' ' || (line.size() > 12 && line[12] != ' ')) {
    return HeadParse::bad;
  }
  head.minor_version = line[7] - '0';
  const auto [status_end, ec] = std::from_chars(line.data() + 9, line.data() + 12, head.status);
  if (ec != std::errc() || status_end != line.data() + 12 || head.status < 100 ||
      head.status > 599) {
    return HeadParse::bad;
  }
  block.remove_prefix(line_end + 2);
  std::optional<std::uint64_t> content_length;
  std::string_view transfer_encoding;
  std::string_view connection;
  while (!block.empty()) {
    const std::size_t eol = block.find("\r\n");
    const std::string_view field = block.substr(0, eol);
    block.remove_prefix(eol + 2);
    if (field.empty() || field[0] == ' ' || field[0] == '\t') {
      return HeadParse::bad;  // obsolete line folding
    }
    const std::size_t colon = field.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      return HeadParse::bad;
    }
    const std::string_view name = field.substr(0, colon);
    for (const char c : name) {
      if (!is_token_char(static_cast<unsigned char>(c))) {
        return HeadParse::bad;  // includes whitespace before the colon
      }
    }
    const std::string_view value = trim_ows(field.substr(colon + 1));
    for (const char c : value) {
      if (c == '\0' || c == '\r' || c == '\n') {
        return HeadParse::bad;
      }
    }
    if (head.fields.size() >= kMaxResponseFields) {
      return HeadParse::bad;
    }
    if (iequals(name, "Content-Length")) {
      std::uint64_t n = 0;
      const auto [p, e] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (e != std::errc() || p != value.data() + value.size() || value.empty() ||
          (content_length && *content_length != n)) {
        return HeadParse::bad;
      }
      content_length = n;
    } else if (iequals(name, "Transfer-Encoding")) {
      if (!transfer_encoding.empty()) {
        return HeadParse::bad;  // one field, please: a split value is how smuggling starts
      }
      transfer_encoding = value;
    } else if (iequals(name, "Connection")) {
      connection = value;
    }
    head.fields.emplace_back(name, value);
  }
  consumed = end + 4;
  head.keep_alive = head.minor_version == 1 ? !has_token(connection, "close")
                                            : has_token(connection, "keep-alive");
  if (head_request || (head.status >= 100 && head.status < 200) || head.status == 204 ||
      head.status == 304) {
    head.body = BodyKind::none;
  } else if (!transfer_encoding.empty()) {
    if (!iequals(last_coding(transfer_encoding), "chunked")) {
      head.body = BodyKind::until_close;  // §6.3: read until the server closes
      head.keep_alive = false;
    } else {
      head.body = BodyKind::chunked;
      if (content_length) {
        head.keep_alive = false;  // both given: chunked wins, and the connection is not reused
      }
    }
  } else if (content_length) {
    head.body = BodyKind::length;
    head.length = *content_length;
  } else {
    head.body = BodyKind::until_close;
    head.keep_alive = false;
  }
  return HeadParse::done;
}

}  // namespace collage::proxy
