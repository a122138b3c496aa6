#include "launcher.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>
#include <vector>

namespace collage::cgi {
namespace {

// Messages are one datagram each (SOCK_SEQPACKET keeps their bounds): a kind byte, then
// NUL-separated strings; a spawn carries its three descriptors (stdin, stdout, stderr).
constexpr char kSpawn = 'S';
constexpr char kSignal = 'K';
constexpr std::size_t kMaxMessage = 256 * 1024;

void append_string(std::string& out, const std::string& s) {
  out += s;
  out += '\0';
}

bool send_with_fds(int socket, const std::string& message, const int* fds, int count) {
  iovec iov{const_cast<char*>(message.data()), message.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 3)] = {};
  if (count > 0) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * static_cast<std::size_t>(count));
    cmsghdr* header = CMSG_FIRSTHDR(&msg);
    header->cmsg_level = SOL_SOCKET;
    header->cmsg_type = SCM_RIGHTS;
    header->cmsg_len = CMSG_LEN(sizeof(int) * static_cast<std::size_t>(count));
    std::memcpy(CMSG_DATA(header), fds, sizeof(int) * static_cast<std::size_t>(count));
  }
  ssize_t n;
  do {
    n = ::sendmsg(socket, &msg, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(message.size());
}

// The helper's child: becomes the script.
[[noreturn]] void become_script(const std::vector<std::string>& parts, const int fds[3], uid_t uid,
                                gid_t gid) {
  // parts: program, working directory, argc, argv..., env...
  ::setpgid(0, 0);
  if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0 || ::getuid() == 0) {
    ::_exit(126);
  }
  for (int i = 0; i < 3; ++i) {
    ::dup2(fds[i], i);
  }
  ::close_range(3, ~0U, 0);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig = 1; sig < NSIG; ++sig) {
    ::signal(sig, SIG_DFL);
  }
  if (!parts[1].empty() && ::chdir(parts[1].c_str()) != 0) {
    ::_exit(126);
  }
  const std::size_t argc = std::strtoul(parts[2].c_str(), nullptr, 10);
  std::vector<char*> argv;
  std::vector<char*> env;
  for (std::size_t i = 3; i < parts.size(); ++i) {
    (i < 3 + argc ? argv : env).push_back(const_cast<char*>(parts[i].c_str()));
  }
  argv.push_back(nullptr);
  env.push_back(nullptr);
  ::execve(parts[0].c_str(), argv.data(), env.data());
  ::_exit(127);
}

std::vector<std::string> split(const char* data, std::size_t size) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i < size; ++i) {
    if (data[i] == '\0') {
      parts.emplace_back(data + start, i - start);
      start = i + 1;
    }
  }
  return parts;
}

// The helper: serves one child until its end of the socket closes.
[[noreturn]] void serve(int socket, uid_t uid, gid_t gid) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  std::set<pid_t> started;
  std::vector<char> buffer(kMaxMessage);
  for (;;) {
    // Reap what ended; a short poll timeout keeps zombies from waiting long.
    for (pid_t done; (done = ::waitpid(-1, nullptr, WNOHANG)) > 0;) {
      started.erase(done);
    }
    pollfd pfd{socket, POLLIN, 0};
    if (::poll(&pfd, 1, 200) <= 0) {
      continue;
    }
    iovec iov{buffer.data(), buffer.size()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 3)] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    const ssize_t n = ::recvmsg(socket, &msg, MSG_CMSG_CLOEXEC);
    if (n <= 0) {
      if (n < 0 && errno == EINTR) {
        continue;
      }
      ::_exit(0);  // the child is gone
    }
    int fds[3] = {-1, -1, -1};
    int received = 0;
    if (cmsghdr* header = CMSG_FIRSTHDR(&msg);
        header != nullptr && header->cmsg_type == SCM_RIGHTS) {
      received = static_cast<int>((header->cmsg_len - CMSG_LEN(0)) / sizeof(int));
      std::memcpy(fds, CMSG_DATA(header),
                  sizeof(int) * static_cast<std::size_t>(std::min(received, 3)));
    }
    const std::vector<std::string> parts =
        split(buffer.data() + 1, static_cast<std::size_t>(n) - 1);
    if (buffer[0] == kSpawn && received == 3 && parts.size() >= 3) {
      const pid_t pid = ::fork();
      if (pid == 0) {
        become_script(parts, fds, uid, gid);
      }
      const int pidfd = pid > 0 ? static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)) : -1;
      if (pid > 0) {
        started.insert(pid);
        ::setpgid(pid, pid);  // also in the child: whichever runs first
      }
      // The pidfd is opened here, before this loop can reap the script: the child gets a
      // handle that says when it ended, however soon that is.
      const std::string reply = std::to_string(pid > 0 ? pid : -errno);
      send_with_fds(socket, reply, &pidfd, pidfd >= 0 ? 1 : 0);
      if (pidfd >= 0) {
        ::close(pidfd);
      }
    } else if (buffer[0] == kSignal && parts.size() == 2) {
      const pid_t pid = static_cast<pid_t>(std::strtol(parts[0].c_str(), nullptr, 10));
      if (started.count(pid) != 0) {  // never a process it did not start
        ::kill(-pid, static_cast<int>(std::strtol(parts[1].c_str(), nullptr, 10)));
      }
    }
    for (int i = 0; i < std::min(received, 3); ++i) {
      ::close(fds[i]);
    }
  }
}

}  // namespace

std::unique_ptr<Launcher> Launcher::start(uid_t uid, gid_t gid, std::string& error) {
  if (uid == 0) {
    error = "CgiUser may not be root";
    return nullptr;
  }
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0) {
    error = std::string("socketpair: ") + std::strerror(errno);
    return nullptr;
  }
  const pid_t helper = ::fork();
  if (helper < 0) {
    error = std::string("fork: ") + std::strerror(errno);
    ::close(pair[0]);
    ::close(pair[1]);
    return nullptr;
  }
  if (helper == 0) {
    ::close(pair[0]);
    // Only the socket is kept: nothing else of the server's stays open in a root process.
    ::dup2(pair[1], 3);
    ::close_range(4, ~0U, 0);
    serve(3, uid, gid);
  }
  ::close(pair[1]);
  return std::unique_ptr<Launcher>(new Launcher(pair[0], helper));
}

Launcher::~Launcher() {
  ::close(socket_);  // the helper exits when it sees the end
  ::waitpid(helper_, nullptr, WNOHANG);
}

bool Launcher::spawn(const SpawnRequest& request, SpawnedProcess& out, std::string& error) const {
  int out_pipe[2];
  int err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) {
    error = std::string("pipe: ") + std::strerror(errno);
    return false;
  }
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    error = std::string("pipe: ") + std::strerror(errno);
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return false;
  }
  std::string message(1, kSpawn);
  append_string(message, request.program);
  append_string(message, request.working_directory);
  append_string(message, std::to_string(request.argv.size()));
  for (const std::string& a : request.argv) {
    append_string(message, a);
  }
  for (const std::string& e : request.env) {
    append_string(message, e);
  }
  const int fds[3] = {request.stdin_fd, out_pipe[1], err_pipe[1]};
  pid_t pid = -1;
  int pidfd = -1;
  {
    std::lock_guard lock(mutex_);
    if (message.size() <= kMaxMessage && send_with_fds(socket_, message, fds, 3)) {
      char reply[32];
      iovec iov{reply, sizeof reply - 1};
      alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
      msghdr msg{};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control;
      msg.msg_controllen = sizeof control;
      ssize_t n;
      do {
        n = ::recvmsg(socket_, &msg, MSG_CMSG_CLOEXEC);
      } while (n < 0 && errno == EINTR);
      if (n > 0) {
        reply[n] = '\0';
        pid = static_cast<pid_t>(std::strtol(reply, nullptr, 10));
        if (cmsghdr* header = CMSG_FIRSTHDR(&msg);
            header != nullptr && header->cmsg_type == SCM_RIGHTS) {
          std::memcpy(&pidfd, CMSG_DATA(header), sizeof(int));
        }
      }
    }
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  if (pid <= 0 || pidfd < 0) {
    error = "the CgiUser launcher could not start it";
    if (pidfd >= 0) {
      ::close(pidfd);
    }
    ::close(out_pipe[0]);
    ::close(err_pipe[0]);
    return false;
  }
  ::fcntl(out_pipe[0], F_SETFL, O_NONBLOCK);
  ::fcntl(err_pipe[0], F_SETFL, O_NONBLOCK);
  out.pid = pid;
  out.pidfd = pidfd;
  out.stdout_fd = out_pipe[0];
  out.stderr_fd = err_pipe[0];
  return true;
}

void Launcher::signal_group(pid_t pid, int signal) const {
  std::string message(1, kSignal);
  append_string(message, std::to_string(pid));
  append_string(message, std::to_string(signal));
  std::lock_guard lock(mutex_);
  send_with_fds(socket_, message, nullptr, 0);
}

}  // namespace collage::cgi
