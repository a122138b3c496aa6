#pragma once
// The look of the pages the server writes itself (directory listings, error pages, the gopher
// gateway): one small inline stylesheet, no external fonts, images or scripts, readable on a
// phone and a desktop, light or dark as the reader's system prefers. Callable from any thread.

#include <string>
#include <string_view>

namespace collage {

// Appends everything up to and including <main>: the document head with `title` (escaped here)
// and the stylesheet.
void append_page_start(std::string_view title, std::string& out);
// Appends the footer naming the server, then closes <main>, <body> and <html>.
void append_page_end(std::string& out);
// Appends a <nav> of links for each directory of a URL path ("/", "/docs/", "/docs/sub/"), the
// last part unlinked.
void append_breadcrumbs(std::string_view path, std::string& out);

}  // namespace collage
