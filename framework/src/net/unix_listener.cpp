#include "collage/unix_listener.h"

#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace collage {
namespace {

sockaddr_un unix_address(const std::string& path) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), std::min(path.size(), sizeof address.sun_path - 1));
  return address;
}

// True when a socket file is left over from a server that is gone: connecting is refused.
bool stale_socket(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) {
    return false;
  }
  const int probe = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const sockaddr_un address = unix_address(path);
  const bool refused =
      ::connect(probe, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 &&
      errno == ECONNREFUSED;
  ::close(probe);
  return refused;
}

std::string why(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

}  // namespace

int bind_unix_listener(const ListenConfig& listen, int backlog, std::string& error) {
  const std::string path = listen.unix_path();
  if (stale_socket(path)) {
    ::unlink(path.c_str());
  }
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const sockaddr_un address = unix_address(path);
  // Made with no permissions at all, then opened up: no moment where anyone else may connect.
  const mode_t before = ::umask(0777);
  const bool bound =
      fd >= 0 && ::bind(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) == 0;
  const int bind_errno = errno;
  ::umask(before);
  if (!bound) {
    errno = bind_errno;
    error = why(errno == EADDRINUSE ? path + " is in use (another server listens there)" : path);
    if (fd >= 0) {
      ::close(fd);
    }
    return -1;
  }
  const mode_t mode = listen.mode.empty() ? 0600 : std::stoul(listen.mode, nullptr, 8);
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  if (!listen.owner.empty()) {
    const passwd* user = ::getpwnam(listen.owner.c_str());
    if (user == nullptr) {
      error = "no user named '" + listen.owner + "' to own " + path;
    } else {
      uid = user->pw_uid;
    }
  }
  if (!listen.group.empty()) {
    const group* found = ::getgrnam(listen.group.c_str());
    if (found == nullptr) {
      error = "no group named '" + listen.group + "' to own " + path;
    } else {
      gid = found->gr_gid;
    }
  }
  if (error.empty() && (uid != static_cast<uid_t>(-1) || gid != static_cast<gid_t>(-1)) &&
      ::chown(path.c_str(), uid, gid) != 0) {
    error = why("cannot give " + path + " its owner");
  }
  if (error.empty() && ::chmod(path.c_str(), mode) != 0) {
    error = why("cannot set the mode of " + path);
  }
  if (error.empty() && ::listen(fd, backlog) != 0) {
    error = why("cannot listen on " + path);
  }
  if (!error.empty()) {
    ::close(fd);
    ::unlink(path.c_str());
    return -1;
  }
  return fd;
}

}  // namespace collage
