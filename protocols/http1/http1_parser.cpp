#include "http1_parser.h"

#include <cstring>

#include "collage/metadata.h"

namespace collage::http1 {
namespace {

// tchar from RFC 9110 §5.6.2.
constexpr bool is_tchar(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '!' ||
         c == '#' || c == '$' || c == '%' || c == '&' || c == '\'' || c == '*' || c == '+' ||
         c == '-' || c == '.' || c == '^' || c == '_' || c == '`' || c == '|' || c == '~';
}

// Field values: VCHAR, obs-text, SP and HTAB; every other control character is refused.
constexpr bool is_field_value_char(unsigned char c) {
  return c == '\t' || (c >= 0x20 && c != 0x7f);
}

constexpr bool is_host_char(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~' || c == '%' || c == '!' || c == '$' || c == '&' ||
         c == '\'' || c == '(' || c == ')' || c == '*' || c == '+' || c == ',' || c == ';' ||
         c == '=' || c == ':' || c == '[' || c == ']';
}

// Calls fn(element) for each non-empty element of a comma-separated list.
template <typename Fn>
void for_each_list_element(std::string_view list, Fn&& fn) {
  while (!list.empty()) {
    const std::size_t comma = list.find(',');
    const std::string_view element = trim_ows(list.substr(0, comma));
    if (!element.empty()) {
      fn(element);
    }
    if (comma == std::string_view::npos) {
      break;
    }
    list.remove_prefix(comma + 1);
  }
}

// "example.com:8080" → "example.com"; "[::1]:80" → "[::1]". Empty result means invalid.
bool split_host(std::string_view authority, std::string_view& host) {
  if (authority.empty()) {
    host = {};
    return true;
  }
  for (unsigned char c : authority) {
    if (!is_host_char(c)) {
      return false;
    }
  }
  std::string_view port;
  if (authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return false;
    }
    host = authority.substr(0, close + 1);
    std::string_view rest = authority.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') {
        return false;
      }
      port = rest.substr(1);
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
    }
    if (host.find_first_of(":[]") != std::string_view::npos) {
      return false;
    }
  }
  for (char c : port) {
    if (c < '0' || c > '9') {
      return false;
    }
  }
  return port.size() <= 5;
}

bool parse_content_length(std::string_view value, std::optional<std::uint64_t>& length) {
  bool ok = true;
  bool any = false;
  for_each_list_element(value, [&](std::string_view element) {
    any = true;
    if (element.size() > 19) {
      ok = false;
      return;
    }
    std::uint64_t n = 0;
    for (char c : element) {
      if (c < '0' || c > '9') {
        ok = false;
        return;
      }
      n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    // Repeated values are tolerated only when they agree (RFC 9110 §8.6).
    if (length && *length != n) {
      ok = false;
    }
    length = n;
  });
  return ok && any;
}

}  // namespace

std::size_t find_head_end(std::string_view buffered) {
  const char* begin = buffered.data();
  const char* end = begin + buffered.size();
  const char* p = begin;
  while (p < end) {
    const char* lf =
        static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    if (lf == nullptr) {
      return 0;
    }
    if (lf + 1 < end && lf[1] == '\n') {
      return static_cast<std::size_t>(lf + 2 - begin);
    }
    if (lf + 2 < end && lf[1] == '\r' && lf[2] == '\n') {
      return static_cast<std::size_t>(lf + 3 - begin);
    }
    p = lf + 1;
  }
  return 0;
}

ParseError parse_request_head(std::string_view block, const ParseLimits& limits,
                              RequestHead& head) {
  head.headers.clear();
  head.content_length.reset();
  head.chunked = false;
  head.expect_continue = false;
  head.host = {};
  head.query = {};

  std::size_t lf = block.find('\n');
  if (lf == std::string_view::npos) {
    return {400, "no line end"};
  }
  std::string_view line = block.substr(0, lf);
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  head.request_line = line;
  if (line.size() > limits.max_request_line) {
    return {414, "request line too long"};
  }

  // request-line = method SP request-target SP HTTP-version, single spaces only.
  std::size_t i = 0;
  while (i < line.size() && is_tchar(static_cast<unsigned char>(line[i]))) {
    ++i;
  }
  if (i == 0 || i >= line.size() || line[i] != ' ') {
    return {400, "malformed method"};
  }
  head.method_token = line.substr(0, i);
  head.method = method_from_token(head.method_token);
  const std::size_t target_start = i + 1;
  const std::size_t space = line.find(' ', target_start);
  if (space == std::string_view::npos || space == target_start) {
    return {400, "malformed request line"};
  }
  head.target = line.substr(target_start, space - target_start);
  for (unsigned char c : head.target) {
    if (c <= 0x20 || c >= 0x7f) {
      return {400, "invalid character in request target"};
    }
  }
  const std::string_view version = line.substr(space + 1);
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
      version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9') {
    return {400, "malformed HTTP version"};
  }
  if (version[5] != '1') {
    return {505, "unsupported HTTP major version"};
  }
  head.version_minor = version[7] - '0';
  if (head.method == Method::connect) {
    return {501, "CONNECT is not supported"};
  }

  // Header fields.
  std::size_t position = lf + 1;
  std::size_t host_fields = 0;
  std::string_view host_field;
  bool saw_close = false;
  bool saw_keep_alive = false;
  bool saw_transfer_encoding = false;
  bool chunked_last = false;
  bool chunked_twice = false;
  bool unknown_coding = false;
  bool bad_expect = false;
  while (position < block.size()) {
    lf = block.find('\n', position);
    if (lf == std::string_view::npos) {
      return {400, "header block without an empty line"};
    }
    line = block.substr(position, lf - position);
    position = lf + 1;
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.empty()) {
      break;
    }
    if (line.size() > limits.max_field_size) {
      return {431, "header field too large"};
    }
    if (head.headers.size() >= limits.max_fields) {
      return {431, "too many header fields"};
    }
    if (line.front() == ' ' || line.front() == '\t') {
      return {400, "obsolete line folding"};
    }
    std::size_t colon = 0;
    while (colon < line.size() && is_tchar(static_cast<unsigned char>(line[colon]))) {
      ++colon;
    }
    if (colon == 0 || colon >= line.size() || line[colon] != ':') {
      return {400, "malformed header field name"};
    }
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = trim_ows(line.substr(colon + 1));
    for (unsigned char c : value) {
      if (!is_field_value_char(c)) {
        return {400, "invalid character in header field value"};
      }
    }
    head.headers.add(name, value);

    switch (name.size()) {
      case 4:
        if (iequals(name, "host")) {
          ++host_fields;
          host_field = value;
        }
        break;
      case 6:
        if (iequals(name, "expect")) {
          if (iequals(value, "100-continue")) {
            head.expect_continue = head.version_minor >= 1;
          } else {
            bad_expect = true;
          }
        }
        break;
      case 10:
        if (iequals(name, "connection")) {
          for_each_list_element(value, [&](std::string_view token) {
            saw_close = saw_close || iequals(token, "close");
            saw_keep_alive = saw_keep_alive || iequals(token, "keep-alive");
          });
        }
        break;
      case 14:
        if (iequals(name, "content-length")) {
          if (!parse_content_length(value, head.content_length)) {
            return {400, "invalid or conflicting Content-Length"};
          }
        }
        break;
      case 17:
        if (iequals(name, "transfer-encoding")) {
          saw_transfer_encoding = true;
          for_each_list_element(value, [&](std::string_view coding) {
            const bool is_chunked = iequals(coding, "chunked");
            chunked_twice =
                chunked_twice || (is_chunked && chunked_last) || (is_chunked && head.chunked);
            unknown_coding = unknown_coding || !is_chunked;
            head.chunked = head.chunked || is_chunked;
            chunked_last = is_chunked;
          });
        }
        break;
      default: break;
    }
  }

  // Message framing (RFC 9112 §6): refuse anything a proxy in front might read differently.
  if (saw_transfer_encoding) {
    if (head.version_minor == 0) {
      return {400, "Transfer-Encoding in an HTTP/1.0 request"};
    }
    if (head.content_length) {
      return {400, "both Content-Length and Transfer-Encoding"};
    }
    if (!chunked_last || chunked_twice) {
      return {400, "chunked is not the final transfer coding"};
    }
    if (unknown_coding) {
      return {501, "unsupported transfer coding"};
    }
  }

  // Host (RFC 9112 §3.2): exactly one in HTTP/1.1.
  if (host_fields > 1) {
    return {400, "more than one Host field"};
  }
  if (host_fields == 0 && head.version_minor >= 1) {
    return {400, "missing Host field"};
  }
  if (!split_host(host_field, head.host)) {
    return {400, "invalid Host field"};
  }

  // Request target forms (RFC 9112 §3.2).
  std::string_view target = head.target;
  if (target == "*") {
    if (head.method != Method::options) {
      return {400, "asterisk-form is only for OPTIONS"};
    }
    head.form = TargetForm::asterisk;
    head.path = {};
  } else if (target.front() == '/') {
    head.form = TargetForm::origin;
  } else if (istarts_with(target, "http://") || istarts_with(target, "https://")) {
    head.form = TargetForm::absolute;
    target.remove_prefix(target[4] == ':' ? 7 : 8);
    const std::size_t end = target.find_first_of("/?");
    const std::string_view authority = target.substr(0, end);
    if (authority.find('@') != std::string_view::npos || authority.empty() ||
        !split_host(authority, head.host) || head.host.empty()) {
      return {400, "invalid authority in absolute-form target"};
    }
    target = end == std::string_view::npos ? std::string_view("/") : target.substr(end);
    if (target.front() == '?') {
      // "http://host?q" has an empty path, which means "/".
      head.path = "/";
      head.query = target.substr(1);
      target = {};
    }
  } else {
    return {400, "unsupported request-target form"};
  }
  if (head.form != TargetForm::asterisk && !target.empty()) {
    if (target.find('#') != std::string_view::npos) {
      return {400, "fragment in request target"};
    }
    const std::size_t question = target.find('?');
    head.path = target.substr(0, question);
    head.query =
        question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  }

  if (bad_expect) {
    return {417, "unsupported expectation"};
  }
  head.keep_alive = !saw_close && (head.version_minor >= 1 || saw_keep_alive);
  return {};
}

}  // namespace collage::http1
