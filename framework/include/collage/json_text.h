#pragma once
// JSON strings from text that may come from a client: what the JSON logs and the status page's
// ?json write.

#include <string>
#include <string_view>

namespace collage {

// Appends text as a quoted JSON string: quotes and backslashes escaped, and every byte outside
// printable ASCII as \u00XX. Client bytes need not be UTF-8, so the output is valid JSON
// whatever they are (a byte 0xE9 reads back as U+00E9).
void append_json_string(std::string_view text, std::string& out);

}  // namespace collage
