#pragma once
// HTTP/1.1 request parsing (RFC 9112), strict and allocation-free: every view points into the
// header block the caller keeps alive. No regular expressions; one pass over the bytes.

#include <cstdint>
#include <optional>
#include <string_view>

#include "collage/chunked.h"  // ChunkedDecoder, for request bodies
#include "collage/metadata.h"
#include "collage/method.h"

namespace collage::http1 {

struct ParseLimits {
  std::size_t max_request_line = 8190;  // 414 beyond
  std::size_t max_field_size = 8190;    // one header field line; 431 beyond
  std::size_t max_fields = 100;         // 431 beyond
};

// Where a complete header block ends: the index just past the empty line, or 0 if the block is
// not complete yet. Bare LF line ends are accepted (RFC 9112 §2.2).
std::size_t find_head_end(std::string_view buffered);

enum class TargetForm : std::uint8_t { origin, absolute, asterisk };

struct RequestHead {
  std::string_view request_line;  // without the line end, for the access log
  std::string_view method_token;
  Method method = Method::unknown;
  std::string_view target;
  TargetForm form = TargetForm::origin;
  std::string_view path;   // raw (still percent-encoded), from origin or absolute form
  std::string_view query;  // without '?'
  int version_minor = 1;   // HTTP/1.x
  std::string_view host;   // from the absolute-form target, else the Host field; port removed
  MetadataView headers;
  std::optional<std::uint64_t> content_length;
  bool chunked = false;
  bool keep_alive = true;
  bool expect_continue = false;
};

struct ParseError {
  int status = 0;           // 0: no error
  std::string_view reason;  // for the error log
};

// Parses a complete header block (request line and fields, up to and including the empty line),
// leading empty lines already skipped. Fills head; returns a status ≥ 400 on bad input.
ParseError parse_request_head(std::string_view block, const ParseLimits& limits, RequestHead& head);

}  // namespace collage::http1
