#include "signal_command.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <thread>

#include "pid_file.h"

namespace collage::control {
namespace {

using namespace std::chrono_literals;

bool wait_until_gone(pid_t pid, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::kill(pid, 0) != 0) {
      return true;
    }
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

// Forks; the child leaves the terminal's session and serves. The parent returns once the child
// has written the PidFile (0) or has exited (its status).
int start_in_background(const std::string& pid_file, const std::function<int()>& serve) {
  const pid_t child = ::fork();
  if (child < 0) {
    std::perror("collage: fork");
    return 1;
  }
  if (child == 0) {
    ::setsid();
    // Let go of the terminal or the caller's pipes; serve() points stderr at the error log.
    const int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
      ::dup2(null, 0);
      ::dup2(null, 1);
      ::dup2(null, 2);
      ::close(null);
    }
    std::_Exit(serve());
  }
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(child, &status, WNOHANG) == child) {
      std::fprintf(stderr, "collage: the server did not start (see the error log)\n");
      return WIFEXITED(status) && WEXITSTATUS(status) != 0 ? WEXITSTATUS(status) : 1;
    }
    if (running_pid(pid_file) == child) {
      return 0;
    }
    std::this_thread::sleep_for(20ms);
  }
  std::fprintf(stderr, "collage: no PidFile from the server after 15 s\n");
  return 1;
}

}  // namespace

int run_signal_command(const std::string& command, const std::string& pid_file,
                       std::chrono::milliseconds graceful_timeout, bool error_log_is_stderr,
                       const std::function<int()>& serve) {
  const bool may_start = command == "start" || command == "restart" || command == "graceful";
  if (may_start && error_log_is_stderr && running_pid(pid_file) == 0) {
    // In the background stderr is the launching terminal's, and its messages would vanish.
    std::fprintf(stderr,
                 "collage: -k %s runs the server in the background, where an ErrorLog of stderr "
                 "reaches no one: set <ErrorLog> to a file first (the example: -D "
                 "ERRORLOG=run/error.log)\n",
                 command.c_str());
    return 1;
  }
  if (pid_file.empty() || pid_file == "off") {
    std::fprintf(stderr, "collage: -k needs a PidFile to find the running server\n");
    return 1;
  }
  const pid_t pid = running_pid(pid_file);
  if (command == "start") {
    if (pid != 0) {
      std::fprintf(stderr, "collage: already running (pid %d)\n", static_cast<int>(pid));
      return 0;
    }
    return start_in_background(pid_file, serve);
  }
  if (pid == 0) {
    if (command == "restart" || command == "graceful") {
      std::fprintf(stderr, "collage: not running; starting it\n");
      return start_in_background(pid_file, serve);
    }
    std::fprintf(stderr, "collage: not running (no live process in %s)\n", pid_file.c_str());
    return 0;
  }
  const int signal = command == "stop"       ? SIGTERM
                     : command == "restart"  ? SIGHUP
                     : command == "graceful" ? SIGUSR1
                                             : SIGWINCH;
  if (::kill(pid, signal) != 0) {
    std::perror("collage: kill");
    return 1;
  }
  if (command == "stop" || command == "graceful-stop") {
    const auto limit = (command == "stop" ? 0ms : graceful_timeout) + 10s;
    if (!wait_until_gone(pid, limit)) {
      std::fprintf(stderr, "collage: pid %d is still running\n", static_cast<int>(pid));
      return 1;
    }
  }
  return 0;
}

}  // namespace collage::control
