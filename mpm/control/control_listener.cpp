#include "control_listener.h"

#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <random>

#include "collage/control_channel.h"
#include "collage/log.h"

namespace collage::control {
namespace {

// Moves all size bytes with step (a read or a send), across short counts and EINTR; false when
// the peer closes, an error happens or the socket's timeout passes.
template <typename Step>
bool whole(Step step, char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = step(data, size);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) {
        continue;
      }
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

bool read_exactly(int fd, char* data, std::size_t size) {
  return whole([fd](char* at, std::size_t left) { return ::read(fd, at, left); }, data, size);
}

bool write_all(int fd, const char* data, std::size_t size) {
  return whole([fd](char* at, std::size_t left) { return ::send(fd, at, left, MSG_NOSIGNAL); },
               const_cast<char*>(data), size);
}

}  // namespace

ControlListener::~ControlListener() {
  close();
}

void ControlListener::close() {
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

bool ControlListener::open() {
  std::random_device random;
  const std::string name =
      "collage-" + std::to_string(::getpid()) + "-" + std::to_string(random() % 1000000000u);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path + 1, name.data(), name.size());  // abstract: no file to clean up
  fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
  if (fd_ < 0 || ::bind(fd_, reinterpret_cast<const sockaddr*>(&address), length) != 0 ||
      ::listen(fd_, 64) != 0) {
    COLLAGE_LOG(LogLevel::error, "COL-ADMIN-0003",
                "cannot open the control channel: {}; the admin API will answer 503",
                std::strerror(errno));
    close();
    return false;
  }
  set_control_channel_name(name);
  return true;
}

void ControlListener::serve_one(const std::function<bool(pid_t)>& is_child,
                                const std::function<std::string(const std::string&)>& handle) {
  const int call = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
  if (call < 0) {
    return;
  }
  ucred credentials{};
  socklen_t length = sizeof credentials;
  if (::getsockopt(call, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0 ||
      !is_child(credentials.pid)) {
    COLLAGE_LOG(LogLevel::warn, "COL-ADMIN-0004",
                "control channel: process {} (uid {}) is not a child of this server; refused",
                credentials.pid, credentials.uid);
    ::close(call);
    return;
  }
  const timeval limit{5, 0};
  ::setsockopt(call, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  ::setsockopt(call, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
  std::array<unsigned char, 4> head{};
  std::string request;
  bool ok = read_exactly(call, reinterpret_cast<char*>(head.data()), head.size());
  const std::size_t size =
      std::size_t{head[0]} << 24 | std::size_t{head[1]} << 16 | std::size_t{head[2]} << 8 | head[3];
  ok = ok && size <= kMaxControlMessage;
  if (ok) {
    request.resize(size);
    ok = read_exactly(call, request.data(), size);
  }
  if (!ok) {
    COLLAGE_LOG(LogLevel::warn, "COL-ADMIN-0005", "control channel: child {} sent no whole request",
                credentials.pid);
    ::close(call);
    return;
  }
  const std::string reply = handle(request);
  const std::array<char, 4> prefix{
      static_cast<char>(reply.size() >> 24), static_cast<char>(reply.size() >> 16),
      static_cast<char>(reply.size() >> 8), static_cast<char>(reply.size())};
  if (!write_all(call, prefix.data(), prefix.size()) ||
      !write_all(call, reply.data(), reply.size())) {
    COLLAGE_LOG(LogLevel::warn, "COL-ADMIN-0005", "control channel: the reply to child {} was lost",
                credentials.pid);
  }
  ::close(call);
}

}  // namespace collage::control
