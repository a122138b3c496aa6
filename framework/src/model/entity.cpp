#include "collage/entity.h"

#include "collage/status.h"

namespace collage {

void Entity::set_error(int error_status) {
  reset();
  status = error_status;
  std::string_view page = error_page(error_status);
  content_type = "text/html; charset=utf-8";
  length = page.size();
  body.append_static(page);
  error_page_of = error_status;
}

void Entity::add_request_id(std::string_view id) {
  if (error_page_of == 0 || error_page_of != status) {
    return;
  }
  const ErrorPageParts parts = error_page_parts(status);
  std::string line = "<p class=\"muted\">Request ID <code>";
  line += id;
  line += "</code></p>";
  body.clear();
  body.append_static(parts.before_id);
  body.append_owned(std::move(line));
  body.append_static(parts.after_id);
  length = body.size();
  error_page_of = 0;
}

void Entity::set_body(std::string text, std::string_view type) {
  error_page_of = 0;
  stream.reset();
  content_type = type;
  length = text.size();
  body.clear();
  body.append_owned(std::move(text));
}

Task<StreamStatus> BodyWalk::next(Brigade& part) {
  part.clear();
  if (!ready_taken_) {
    ready_taken_ = true;
    part = std::move(entity_.body);
    entity_.body.clear();
    if (entity_.stream == nullptr) {
      co_return StreamStatus::end;
    }
    if (!part.empty()) {
      co_return StreamStatus::more;
    }
  }
  if (entity_.stream == nullptr) {
    co_return StreamStatus::end;
  }
  const StreamStatus status = co_await entity_.stream->next(part, entity_.stream_part_limit);
  if (status != StreamStatus::more) {
    entity_.stream.reset();  // ended or failed: the producer is done
  }
  co_return status;
}

}  // namespace collage
