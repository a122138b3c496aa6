#include "request_spool.h"

#include <fcntl.h>
#include <sys/mman.h>

#include <cerrno>
#include <cstring>
#include <span>

#include "collage/log.h"
#include "collage/safe_open.h"

namespace collage::gateway {
namespace {

constexpr std::size_t kMemoryBody = 64 * 1024;  // request bodies up to this stay in memory

bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

Task<int> spool_request_body(BodySource& body, const std::string& spool_directory, OwnedFd& file,
                             std::uint64_t& length) {
  std::string buffer(kMemoryBody, '\0');
  std::size_t used = 0;
  for (;;) {
    if (used == buffer.size()) {
      if (file.fd < 0) {
        file.fd = ::open(spool_directory.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
        if (file.fd < 0) {
          COLLAGE_LOG(LogLevel::error, "COL-GATEWAY-0001",
                      "cannot spool a request body in {} (CgiSpoolDirectory): {}", spool_directory,
                      std::strerror(errno));
          co_return 500;
        }
      }
      if (!write_all(file.fd, buffer.data(), used)) {
        co_return status_for_file_error(errno);
      }
      used = 0;
    }
    const BodyRead read = co_await body.read(std::span(buffer.data() + used, buffer.size() - used));
    if (read.error != BodyError::none) {
      const int status = body_error_status(read.error);
      co_return status != 0 ? status : 400;
    }
    if (read.bytes == 0) {
      break;
    }
    used += read.bytes;
    length += read.bytes;
  }
  if (file.fd < 0) {
    file.fd = ::memfd_create("cgi-request-body", MFD_CLOEXEC);
  }
  if (file.fd < 0 || !write_all(file.fd, buffer.data(), used) ||
      ::lseek(file.fd, 0, SEEK_SET) != 0) {
    co_return 500;
  }
  co_return 0;
}

}  // namespace collage::gateway
