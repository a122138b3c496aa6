#pragma once
// collage -k: start in the background, or signal the server named by the PidFile.

#include <chrono>
#include <functional>
#include <string>

namespace collage::control {

// `serve` runs the server in this process (the background child for -k start) and returns its
// exit status. A start is refused when error_log_is_stderr: nobody would read it there.
// Returns the command's exit status.
int run_signal_command(const std::string& command, const std::string& pid_file,
                       std::chrono::milliseconds graceful_timeout, bool error_log_is_stderr,
                       const std::function<int()>& serve);

}  // namespace collage::control
