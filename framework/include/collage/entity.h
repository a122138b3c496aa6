#pragma once
// The protocol-neutral response: a status, metadata and a body brigade. Frequent metadata has typed
// fields so the hot path formats headers without building strings; the rest goes in `headers`.

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "collage/brigade.h"
#include "collage/metadata.h"

namespace collage {

struct Entity {
  int status = 200;
  // Media type; must outlive the response (a MIME table entry, a literal, or a string in headers).
  std::string_view content_type;
  std::string etag;                          // with quotes, e.g. "\"5f-1a\"", empty if none
  std::optional<std::time_t> last_modified;  // seconds since the epoch
  // Body length when known up front; front ends use chunking or close-delimiting otherwise.
  std::optional<std::uint64_t> length;
  Metadata headers;  // everything else (Location, Allow, Content-Range, …)
  Brigade body;
  // Nonzero while the body is the shared error page of that status (set_error), which a front
  // end may give the request's ID (add_request_id).
  int error_page_of = 0;

  void reset() {
    status = 200;
    content_type = {};
    etag.clear();
    last_modified.reset();
    length.reset();
    headers.clear();
    body.clear();
    error_page_of = 0;
  }

  // Turns this entity into the standard error page for status (HTML, known length).
  void set_error(int error_status);
  // A body held in memory (generated pages), with content type and length set.
  void set_body(std::string text, std::string_view type);
  // If the body is still set_error()'s page for the current status, rebuilds it with the request
  // ID in it: the shared page around one small owned line, no formatting of the page.
  void add_request_id(std::string_view id);
};

}  // namespace collage
