#pragma once
// Reading file ranges from a connection's thread without stalling it on a slow disk: what the
// page cache holds is read at once (preadv2 with RWF_NOWAIT, no blocking I/O); only what is not
// cached is read on the blocking pool. sendfile paths do not need this; read-and-encrypt (TLS)
// and read-and-frame (HTTP/2) paths do.

#include <sys/types.h>

#include <cstdint>

#include "collage/asio.h"
#include "collage/brigade.h"

namespace collage {

class Services;

// Reads up to n bytes at offset into buffer. Returns the bytes read (0 at the end of the file) or
// -1 on an error. With services null, reads in place (tests, tools). The buffer must stay valid
// until the coroutine returns.
Task<ssize_t> read_file_range(Services* services, int fd, char* buffer, std::size_t n,
                              std::uint64_t offset);

// Reads that went to the blocking pool since the process started (for tests and metrics).
std::uint64_t offloaded_file_reads();

// Replaces every file bucket of `part` with a memory bucket holding its bytes, read as above.
// False when a file ended before the bucket did.
Task<bool> read_file_buckets(Services* services, Brigade& part);

}  // namespace collage
