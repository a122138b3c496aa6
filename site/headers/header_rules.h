#pragma once
// Header and RequestHeader rules: set, add, append, unset or setifempty one field, parsed once at
// load. Response rules apply to 1xx-3xx answers unless marked `always` (as nginx's add_header).

#include <string>
#include <string_view>

#include "collage/entity.h"
#include "collage/metadata.h"

namespace collage::headers {

struct HeaderRule {
  enum class Action : std::uint8_t { set, add, append, unset, setifempty };
  Action action = Action::set;
  bool always = false;
  std::string name;
  std::string value;
};

// `response`: a Header rule (may start with `always`); else a RequestHeader rule.
bool parse_header_rule(std::string_view entry, bool response, HeaderRule& rule, std::string& error);

void apply_response_rule(const HeaderRule& rule, Entity& out);
// The request keeps views: the rule's own strings outlive the request.
void apply_request_rule(const HeaderRule& rule, MetadataView& headers);

}  // namespace collage::headers
