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
  content_type = type;
  length = text.size();
  body.clear();
  body.append_owned(std::move(text));
}

}  // namespace collage
