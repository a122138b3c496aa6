#pragma once
// Gopher item types (RFC 1436 and the common extensions) for files, by extension and, for
// unknown extensions, by a look at the first bytes.

#include <string_view>

namespace collage::gopher {

// '0' text, '1' menu, '9' binary, 'g' GIF, 'I' image, 'h' HTML, 's' sound, 'd' document,
// ';' video.
char item_type_for_name(std::string_view file_name);
// For files whose extension says nothing: text if the sample has no NUL and is mostly printable.
char item_type_for_content(std::string_view sample);
// The media type a store gives a file of this item type (and extension, for images).
std::string_view media_type_for(char type, std::string_view file_name);

}  // namespace collage::gopher
