#include "collage/safe_open.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>

namespace collage {
namespace {

// Fallback for kernels before 5.6: open, then check where the descriptor really points.
int open_and_verify(int root_fd, const char* relative_path, int flags) {
  const int fd = ::openat(root_fd, relative_path, flags);
  if (fd < 0) {
    return -1;
  }
  char link[64];
  char root_real[PATH_MAX];
  char target_real[PATH_MAX];
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", root_fd);
  const ssize_t root_length = ::readlink(link, root_real, sizeof root_real - 1);
  std::snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  const ssize_t target_length = ::readlink(link, target_real, sizeof target_real - 1);
  const auto rl = static_cast<std::size_t>(root_length);
  const bool inside = root_length > 0 && target_length >= root_length &&
                      std::memcmp(root_real, target_real, rl) == 0 &&
                      (target_length == root_length || target_real[rl] == '/' || rl == 1);
  if (!inside) {
    ::close(fd);
    errno = EXDEV;
    return -1;
  }
  return fd;
}

}  // namespace

int status_for_file_error(int err) {
  switch (err) {
    case EACCES:
    case EPERM: return 403;
    case ENOENT:
    case ENOTDIR:
    case EXDEV:
    case ELOOP:
    case ENAMETOOLONG: return 404;
    case EEXIST:
    case ENOTEMPTY: return 409;
    case ENOSPC:
    case EDQUOT: return 507;
    default: return 500;
  }
}

int open_beneath(int root_fd, const char* relative_path, int flags, bool follow_outside) {
  if (relative_path[0] == '/') {
    errno = EXDEV;
    return -1;
  }
  open_how how{};
  how.flags = static_cast<std::uint64_t>(flags);
  how.resolve = RESOLVE_NO_MAGICLINKS | (follow_outside ? 0 : RESOLVE_BENEATH);
  static bool have_openat2 = true;
  if (have_openat2) {
    const long fd = ::syscall(SYS_openat2, root_fd, relative_path, &how, sizeof how);
    if (fd >= 0 || errno != ENOSYS) {
      return static_cast<int>(fd);
    }
    have_openat2 = false;
  }
  return follow_outside ? ::openat(root_fd, relative_path, flags)
                        : open_and_verify(root_fd, relative_path, flags);
}

}  // namespace collage
