#pragma once
// HTTP status codes are the shared vocabulary of every front end.

#include <string_view>

namespace collage {

// "Not Found" for 404; "Unknown" for codes without a registered reason phrase.
std::string_view reason_phrase(int status);

// The HTML page for an error status: what happened and what the reader can do, in the server's
// own style. Rendered once and shared (no allocation per response).
std::string_view error_page(int status);
// A page for a redirect, linking where it leads (location, escaped here).
std::string redirect_page(int status, std::string_view location);

// The same page cut where a request's ID line goes (Entity::add_request_id).
struct ErrorPageParts {
  std::string_view before_id;
  std::string_view after_id;
};
ErrorPageParts error_page_parts(int status);

}  // namespace collage
