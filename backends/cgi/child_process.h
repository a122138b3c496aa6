#pragma once
// Starting a script as a child process with its standard streams on pipes, in a process group of
// its own (so a timeout or an abandoned request kills whatever it started too), and reaping it
// without blocking and without ever leaving a zombie: a pidfd tells the event loop it exited.

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <asio/posix/stream_descriptor.hpp>

#include "collage/asio.h"

namespace collage::cgi {

struct SpawnRequest {
  std::string program;            // absolute path, executed directly (#! lines work)
  std::vector<std::string> argv;  // argv[0] first
  std::vector<std::string> env;   // "NAME=value" each, the whole environment
  std::string working_directory;  // the script's own directory, as Apache does
  int stdin_fd = -1;              // given to the child as fd 0, stays the caller's
};

struct SpawnedProcess {
  pid_t pid = -1;
  int pidfd = -1;      // readable once the process exited
  int stdout_fd = -1;  // read ends, non-blocking, close-on-exec
  int stderr_fd = -1;
};

// Starts the program. Returns false with `error` set (and nothing left open) when it could not
// be started.
bool spawn_process(const SpawnRequest& request, SpawnedProcess& out, std::string& error);

// How a reaped process ended, for the log: "exited with status 3", "killed by signal 11".
std::string describe_exit(int code, int status);

// Watches a started process until it exits, then reaps it (when it is this process's child; a
// CgiUser launcher reaps its own). At `deadline` it calls kill_group(SIGKILL). `on_exit` runs
// once after the exit, on the executor, with waitid's si_code/si_status (code -1 when someone
// else reaps). Owns the pidfd. Runs detached: it outlives the request that started the process.
void reap_when_exited(const asio::any_io_executor& executor, int pidfd, bool own_child,
                      std::chrono::steady_clock::time_point deadline,
                      std::function<void(int signal)> kill_group,
                      std::function<void(int code, int status)> on_exit);

}  // namespace collage::cgi
