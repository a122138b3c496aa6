#pragma once
// Parsing "Authorization: Basic <base64(user:password)>" (RFC 7617).

#include <string>
#include <string_view>

namespace collage::basic_auth {

// Standard base64 with padding; false on any other character or a bad length.
bool decode_base64(std::string_view text, std::string& out);

// Splits a Basic credentials header value into user and password; false when it is not Basic,
// not base64, or has no colon. The scheme name is case-insensitive.
bool parse_basic(std::string_view header, std::string& user, std::string& password);

}  // namespace collage::basic_auth
