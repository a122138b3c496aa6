#pragma once
// Serializes a response head for HTTP/1.1. Pure functions, so they are tested without sockets.

#include <string>

#include "collage/entity.h"

namespace collage::http1 {

enum class BodyFraming : std::uint8_t {
  none,            // no body on the wire (HEAD, 1xx, 204, 304)
  content_length,  // length known
  chunked,         // length unknown, HTTP/1.1 client
  close,  // length unknown, HTTP/1.0 client: the end of the body is the end of the connection
};

// The framing this response gets on the wire.
BodyFraming choose_framing(const Entity& entity, bool head_request, int version_minor);

// Appends status line and header fields, ending with the empty line, to out.
void append_response_head(const Entity& entity, BodyFraming framing, bool keep_alive,
                          int version_minor, std::string& out);

}  // namespace collage::http1
