#include "child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "collage/log.h"

namespace collage::cgi {
namespace {

// Closes what it holds unless released: the error paths of spawn_process stay short.
struct Fds {
  int fd[4] = {-1, -1, -1, -1};
  ~Fds() {
    for (int f : fd) {
      if (f >= 0) {
        ::close(f);
      }
    }
  }
};

std::vector<char*> pointers(const std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (const std::string& s : strings) {
    out.push_back(const_cast<char*>(s.c_str()));
  }
  out.push_back(nullptr);
  return out;
}

}  // namespace

bool spawn_process(const SpawnRequest& request, SpawnedProcess& out, std::string& error) {
  Fds pipes;  // stdout read, stdout write, stderr read, stderr write
  if (::pipe2(&pipes.fd[0], O_CLOEXEC) != 0 || ::pipe2(&pipes.fd[2], O_CLOEXEC) != 0) {
    error = std::string("pipe: ") + std::strerror(errno);
    return false;
  }
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attributes;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attributes);
  posix_spawn_file_actions_adddup2(&actions, request.stdin_fd, 0);
  posix_spawn_file_actions_adddup2(&actions, pipes.fd[1], 1);
  posix_spawn_file_actions_adddup2(&actions, pipes.fd[3], 2);
  if (!request.working_directory.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, request.working_directory.c_str());
  }
  // Nothing of the server's (listening sockets, other requests' pipes) reaches the script.
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  // Its own process group; default signal handling and an empty mask (the server ignores
  // SIGPIPE and blocks its control signals, and both would be inherited across exec).
  sigset_t none;
  sigset_t defaults;
  sigemptyset(&none);
  sigfillset(&defaults);
  posix_spawnattr_setpgroup(&attributes, 0);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setflags(&attributes,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> argv = pointers(request.argv);
  std::vector<char*> env = pointers(request.env);
  pid_t pid = -1;
  const int failed =
      ::posix_spawn(&pid, request.program.c_str(), &actions, &attributes, argv.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (failed != 0) {
    error = std::string("cannot run: ") + std::strerror(failed);
    return false;
  }
  // Nobody else reaps this process (children keep SIGCHLD at its default), so the pid is still
  // ours when the pidfd is opened.
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    error = std::string("pidfd_open: ") + std::strerror(errno);
    ::kill(-pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return false;
  }
  ::fcntl(pipes.fd[0], F_SETFL, O_NONBLOCK);
  ::fcntl(pipes.fd[2], F_SETFL, O_NONBLOCK);
  out.pid = pid;
  out.pidfd = pidfd;
  out.stdout_fd = std::exchange(pipes.fd[0], -1);
  out.stderr_fd = std::exchange(pipes.fd[2], -1);
  return true;
}

std::string describe_exit(int code, int status) {
  if (code == CLD_EXITED) {
    return "exited with status " + std::to_string(status);
  }
  std::string text = "killed by signal " + std::to_string(status);
  if (const char* name = ::sigabbrev_np(status)) {
    text += " (SIG";
    text += name;
    text += ')';
  }
  return text;
}

namespace {

Task<void> reap(asio::posix::stream_descriptor pidfd, bool own_child,
                std::chrono::steady_clock::time_point deadline, std::function<void(int)> kill_group,
                std::function<void(int, int)> on_exit) {
  // The timer kills the group at the deadline, which makes the pidfd readable. Its handler
  // holds nothing of this frame, so it may run after the frame is gone.
  asio::steady_timer timer(pidfd.get_executor());
  timer.expires_at(deadline);
  timer.async_wait([kill_group](const asio::error_code& ec) {
    if (!ec) {
      kill_group(SIGKILL);
    }
  });
  auto [ec] = co_await pidfd.async_wait(asio::posix::descriptor_base::wait_read,
                                        asio::experimental::as_tuple(asio::use_awaitable));
  timer.cancel();
  if (ec) {
    kill_group(SIGKILL);  // the loop is stopping: do not leave the script running
  }
  siginfo_t info{};
  info.si_code = -1;
  if (own_child) {
    // The pidfd said the process exited (or it was just killed), so this returns at once.
    ::waitid(P_PIDFD, static_cast<id_t>(pidfd.native_handle()), &info, WEXITED);
  }
  on_exit(info.si_code, info.si_status);
}

}  // namespace

void reap_when_exited(const asio::any_io_executor& executor, int pidfd, bool own_child,
                      std::chrono::steady_clock::time_point deadline,
                      std::function<void(int signal)> kill_group,
                      std::function<void(int code, int status)> on_exit) {
  asio::co_spawn(executor,
                 reap(asio::posix::stream_descriptor(executor, pidfd), own_child, deadline,
                      std::move(kill_group), std::move(on_exit)),
                 asio::detached);
}

}  // namespace collage::cgi
