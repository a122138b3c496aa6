#pragma once
// IMF-fixdate formatting and parsing (RFC 9110 §5.6.7), with the obsolete forms accepted on input.

#include <ctime>
#include <optional>
#include <string_view>

namespace collage {

inline constexpr std::size_t kHttpDateLength = 29;  // "Sun, 06 Nov 1994 08:49:37 GMT"

// Writes exactly kHttpDateLength characters to out.
void format_http_date(std::time_t when, char* out);
std::optional<std::time_t> parse_http_date(std::string_view text);

// The current time as an HTTP date, refreshed at most once a second per thread.
std::string_view cached_http_date_now();

}  // namespace collage
