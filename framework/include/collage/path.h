#pragma once
// Request-target handling shared by front ends: percent-decoding and dot-segment removal.

#include <string>
#include <string_view>

namespace collage {

enum class PathResult : std::uint8_t {
  ok,
  bad_encoding,   // '%' not followed by two hex digits
  nul_byte,       // decodes to NUL
  encoded_slash,  // %2F: refused so a path cannot smuggle a separator past routing
  above_root,     // "/.." climbs above "/"
  not_absolute,   // does not start with '/'
};

// What ".." at the root means: an error (HTTP, Gopher), or the root itself (FTP, as vsftpd).
enum class AboveRoot : std::uint8_t { refuse, stay };

// Decodes `raw` (an absolute path without query) into `out`, removing "." and ".." segments after
// decoding (so "%2e%2e" is a dot segment too) and folding repeated slashes.
PathResult normalize_path(std::string_view raw, std::string& out,
                          AboveRoot above_root = AboveRoot::refuse);

// The value of a hexadecimal digit (0-15), or -1 for any other character.
int hex_digit_value(char c);

// Percent-encodes what is not safe in a URL path segment (for generated links).
void append_url_encoded_path(std::string_view path, std::string& out);
// Escapes &, <, >, " and ' for HTML text and attribute values.
void append_html_escaped(std::string_view text, std::string& out);

}  // namespace collage
