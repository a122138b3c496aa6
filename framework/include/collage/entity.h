#pragma once
// The protocol-neutral response: a head (status, metadata) and a body that is a ready brigade, a
// stream that yields brigades over time, or both (the ready part goes first). Frequent metadata
// has typed fields so the hot path formats headers without building strings; the rest goes in
// `headers`.

#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "collage/body_stream.h"
#include "collage/brigade.h"
#include "collage/metadata.h"
#include "collage/tunnel.h"

namespace collage {

struct Entity {
  int status = 200;
  // Media type: a MIME table entry, a literal, or set_content_type() for one made at run time.
  std::string_view content_type;
  std::string etag;                          // with quotes, e.g. "\"5f-1a\"", empty if none
  std::optional<std::time_t> last_modified;  // seconds since the epoch
  // Body length when known up front; front ends use chunking or close-delimiting otherwise.
  std::optional<std::uint64_t> length;
  Metadata headers;  // everything else (Location, Allow, Content-Range, …)
  Brigade body;      // the ready part of the body
  // The rest of the body, produced over time; null when `body` is all of it. Front ends pull it
  // in parts of at most stream_part_limit bytes (StreamBufferSize), writing each before the next.
  std::unique_ptr<BodyStream> stream;
  std::size_t stream_part_limit = 64 * 1024;
  // Nonzero while the body is the shared error page of that status (set_error), which a front
  // end may give the request's ID (add_request_id).
  int error_page_of = 0;
  std::shared_ptr<const std::string> content_type_keeper;  // see set_content_type()
  // With status 101: the protocol the store switched to (tunnel.h). Front ends that cannot hand
  // their connection over answer 502 instead.
  std::unique_ptr<Tunnel> tunnel;

  void reset() {
    status = 200;
    content_type = {};
    content_type_keeper.reset();
    etag.clear();
    last_modified.reset();
    length.reset();
    headers.clear();
    body.clear();
    stream.reset();
    error_page_of = 0;
    tunnel.reset();
  }

  // A media type made at run time (a CGI's Content-Type, a proxied one): owned by the entity, on
  // the heap, so the view stays valid when the entity moves.
  void set_content_type(std::string type) {
    content_type_keeper = std::make_shared<const std::string>(std::move(type));
    content_type = *content_type_keeper;
  }

  // Turns this entity into the standard error page for status (HTML, known length).
  void set_error(int error_status);
  // A body held in memory (generated pages), with content type and length set.
  void set_body(std::string text, std::string_view type);
  // If the body is still set_error()'s page for the current status, rebuilds it with the request
  // ID in it: the shared page around one small owned line, no formatting of the page.
  void add_request_id(std::string_view id);
};

// Walks an entity's body for a front end: the ready brigade first, then each part of the stream.
// The front end writes each part before asking for the next, which is the backpressure.
class BodyWalk {
 public:
  explicit BodyWalk(Entity& entity) : entity_(entity) {}
  // Replaces `part` with the next piece of the body; `end` comes with the last piece (possibly
  // empty), `failed` when the stream broke off.
  Task<StreamStatus> next(Brigade& part);

 private:
  Entity& entity_;
  bool ready_taken_ = false;
};

}  // namespace collage
