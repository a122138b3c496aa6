#pragma once
// What the error log and the access log share: writing a whole block to a descriptor.

#include <cstddef>
#include <ctime>
#include <string_view>

namespace collage {

// Writes all of data, retrying after signals; drops the rest on an error (there is nowhere left
// to report a failing log, and a log must not stop the server).
void write_all(int fd, std::string_view data);

// A local time stamp that a log line format (strftime) is applied to at most once a second:
// each writer keeps one thread_local and asks local_time_each_second for its text.
struct SecondStamp {
  std::time_t second = 0;
  char text[48] = {};
  std::size_t length = 0;
};
std::string_view local_time_each_second(SecondStamp& stamp, const char* format);

}  // namespace collage
