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
}

void Entity::set_body(std::string text, std::string_view type) {
  content_type = type;
  length = text.size();
  body.clear();
  body.append_owned(std::move(text));
}

}  // namespace collage
