#pragma once
// Conditional requests (RFC 9110 §13): evaluated from the entity's validators, in the order the
// RFC gives, by any store that has ETag or Last-Modified.

#include "collage/entity.h"
#include "collage/request.h"

namespace collage {

// Returns 0 to go on, 304 (Not Modified) or 412 (Precondition Failed). `exists` is false when the
// target has no current representation (a PUT creating a file): then If-Match fails and
// "If-None-Match: *" passes.
int evaluate_preconditions(const Request& request, const Entity& validators, bool exists);

// True when an entity-tag list (If-Match / If-None-Match value) matches `etag`.
// Strong comparison refuses weak tags on either side.
bool etag_list_matches(std::string_view list, std::string_view etag, bool strong);

}  // namespace collage
