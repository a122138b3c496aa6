#pragma once
// A request body read in full before a script or application server sees it: in memory (a
// memfd) when small, as an unnamed file in a spool directory when not. CGI needs the length up
// front (CONTENT_LENGTH) even for chunked uploads, and a script then never waits on the client.

#include <unistd.h>

#include <cstdint>
#include <string>

#include "collage/asio.h"
#include "collage/request.h"

namespace collage::gateway {

// Closes the descriptor it holds.
struct OwnedFd {
  int fd = -1;
  OwnedFd() = default;
  OwnedFd(const OwnedFd&) = delete;
  OwnedFd& operator=(const OwnedFd&) = delete;
  ~OwnedFd() {
    if (fd >= 0) {
      ::close(fd);
    }
  }
};

// Reads the whole body into `file` (positioned at its start) and adds its size to `length`.
// Returns 0, or the status to answer (413, 408, 400 from the front end's limits; 500, 507).
Task<int> spool_request_body(BodySource& body, const std::string& spool_directory, OwnedFd& file,
                             std::uint64_t& length);

}  // namespace collage::gateway
