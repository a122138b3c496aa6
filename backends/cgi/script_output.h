#pragma once
// A running script seen from the request: its stdout read with a deadline per read (the time a
// script may go without printing anything), and its process group, which is told to stop when
// the request no longer wants the output.

#include <sys/types.h>

#include <asio/posix/stream_descriptor.hpp>
#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include "collage/asio.h"
#include "collage/body_stream.h"
#include "collage/watchdog.h"

namespace collage::cgi {

// The process as the reaper and the request both see it; signals go to its process group only
// while it has not been reaped (after that the number may name someone else's process).
class Launcher;

struct ProcessHandle {
  ProcessHandle(pid_t p, std::shared_ptr<const Launcher> through)
      : pid(p), launcher(std::move(through)) {}
  void signal_group(int signal) const;
  // Called by the reaper: no more signals, and no kill pending.
  void mark_reaped();
  const pid_t pid;
  // The CgiUser helper that started it, which also signals it (null: this process did).
  const std::shared_ptr<const Launcher> launcher;
  std::atomic<bool> reaped{false};
  mutable std::atomic<bool> signalled{false};  // the server stopped it (timeout, output not wanted)
  // The kill that follows a SIGTERM when the script does not stop; cancelled once reaped, so a
  // stopping event loop does not wait for it.
  std::shared_ptr<asio::steady_timer> pending_kill;
};

enum class ReadResult : std::uint8_t { data, end, timed_out, failed };

class ScriptOutput {
 public:
  ScriptOutput(const asio::any_io_executor& executor, int stdout_fd,
               std::shared_ptr<ProcessHandle> process, std::chrono::milliseconds timeout);
  // Unless the output ended, asks the script to stop (SIGTERM to its group) and kills it a few
  // seconds later if it has not exited by then.
  ~ScriptOutput();
  ScriptOutput(const ScriptOutput&) = delete;
  ScriptOutput& operator=(const ScriptOutput&) = delete;

  // Appends what the script printed next, at most `max` bytes, to `into`.
  Task<ReadResult> read_some(std::string& into, std::size_t max);
  // Stops reading for good: a local redirect ignores the rest.
  void abandon();

 private:
  asio::posix::stream_descriptor out_;
  std::shared_ptr<ProcessHandle> process_;
  std::chrono::milliseconds timeout_;
  Watchdog watchdog_;
  bool timed_out_ = false;
  bool ended_ = false;
};

// The body after the head: the bytes already read with it, then the rest as it arrives.
class ScriptBody final : public BodyStream {
 public:
  ScriptBody(std::string already_read, std::unique_ptr<ScriptOutput> output, std::string name)
      : first_(std::move(already_read)), output_(std::move(output)), name_(std::move(name)) {}
  Task<StreamStatus> next(Brigade& out, std::size_t limit) override;

 private:
  std::string first_;
  std::unique_ptr<ScriptOutput> output_;
  std::string name_;  // the script, for log lines
};

}  // namespace collage::cgi
