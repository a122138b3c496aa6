#pragma once
// What the error log and the access log share: writing a whole block to a descriptor.

#include <string_view>

namespace collage {

// Writes all of data, retrying after signals; drops the rest on an error (there is nowhere left
// to report a failing log, and a log must not stop the server).
void write_all(int fd, std::string_view data);

}  // namespace collage
