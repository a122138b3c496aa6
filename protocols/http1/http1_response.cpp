#include "http1_response.h"

#include <charconv>

#include "collage/http_date.h"
#include "collage/status.h"

namespace collage::http1 {
namespace {

void append_number(std::uint64_t value, std::string& out) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  out.append(digits, end);
}

bool status_has_no_body(int status) {
  return status < 200 || status == 204 || status == 304;
}

}  // namespace

BodyFraming choose_framing(const Entity& entity, bool head_request, int version_minor) {
  if (status_has_no_body(entity.status)) {
    return BodyFraming::none;
  }
  if (entity.length) {
    return head_request ? BodyFraming::none : BodyFraming::content_length;
  }
  if (head_request) {
    return BodyFraming::none;
  }
  return version_minor >= 1 ? BodyFraming::chunked : BodyFraming::close;
}

void append_response_head(const Entity& entity, BodyFraming framing, bool keep_alive,
                          int version_minor, std::string& out) {
  out += "HTTP/1.1 ";
  append_number(static_cast<std::uint64_t>(entity.status), out);
  out += ' ';
  out += reason_phrase(entity.status);
  out += "\r\nServer: Collage\r\n";
  // A gateway keeps the origin's Date (RFC 9110 §6.6.1): a stored or proxied response has one.
  if (!entity.headers.contains("Date")) {
    out += "Date: ";
    out += cached_http_date_now();
    out += "\r\n";
  }
  const bool no_body_status = status_has_no_body(entity.status);
  if (!entity.content_type.empty() && !no_body_status) {
    out += "Content-Type: ";
    out += entity.content_type;
    out += "\r\n";
  }
  // HEAD answers carry the length a GET would have sent (RFC 9110 §9.3.2).
  if (entity.length && !no_body_status) {
    out += "Content-Length: ";
    append_number(*entity.length, out);
    out += "\r\n";
  } else if (framing == BodyFraming::chunked) {
    out += "Transfer-Encoding: chunked\r\n";
  }
  if (entity.last_modified) {
    char date[kHttpDateLength];
    format_http_date(*entity.last_modified, date);
    out += "Last-Modified: ";
    out.append(date, kHttpDateLength);
    out += "\r\n";
  }
  if (!entity.etag.empty()) {
    out += "ETag: ";
    out += entity.etag;
    out += "\r\n";
  }
  for (const auto& [name, value] : entity.headers.fields()) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (!keep_alive || framing == BodyFraming::close) {
    out += "Connection: close\r\n";
  } else if (version_minor == 0) {
    out += "Connection: keep-alive\r\n";
  }
  out += "\r\n";
}

}  // namespace collage::http1
