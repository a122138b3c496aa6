#include "collage/systemd.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include "collage/log.h"

namespace collage {
namespace {

// The descriptors systemd passed, read once; unset_environment so children do not see them.
std::vector<int>& activated() {
  static std::vector<int> fds = [] {
    std::vector<int> out;
    const int n = sd_listen_fds(1);
    for (int i = 0; i < n; ++i) {
      out.push_back(SD_LISTEN_FDS_START + i);
    }
    if (n > 0) {
      COLLAGE_LOG(LogLevel::notice, "COL-CORE-0013", "systemd passed {} listening socket(s)", n);
    }
    return out;
  }();
  return fds;
}

}  // namespace

void notify_systemd(std::string_view state) {
  const std::string text(state);
  sd_notify(0, text.c_str());
}

int take_activated_socket(const asio::ip::tcp::endpoint& endpoint) {
  std::vector<int>& fds = activated();
  for (auto it = fds.begin(); it != fds.end(); ++it) {
    if (sd_is_socket_inet(*it, endpoint.protocol().family(), SOCK_STREAM, 1, endpoint.port()) <=
        0) {
      continue;
    }
    // The same port is not enough: the address must be the one the listener names too.
    asio::ip::tcp::endpoint bound;
    socklen_t length = static_cast<socklen_t>(bound.capacity());
    if (::getsockname(*it, bound.data(), &length) != 0) {
      continue;
    }
    bound.resize(length);
    if (bound.address() == endpoint.address()) {
      const int fd = *it;
      fds.erase(it);
      ::fcntl(fd, F_SETFD, FD_CLOEXEC);
      return fd;
    }
  }
  return -1;
}

void close_unused_activated_sockets() {
  for (int fd : activated()) {
    asio::ip::tcp::endpoint bound;
    socklen_t length = static_cast<socklen_t>(bound.capacity());
    std::string name = "descriptor " + std::to_string(fd);
    if (::getsockname(fd, bound.data(), &length) == 0) {
      bound.resize(length);
      name = bound.address().to_string() + ":" + std::to_string(bound.port());
    }
    COLLAGE_LOG(LogLevel::warn, "COL-CORE-0014",
                "systemd passed a socket for {} that no <Listen> names; closed", name);
    ::close(fd);
  }
  activated().clear();
}

}  // namespace collage
