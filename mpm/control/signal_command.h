#pragma once
// collage -k: start in the background, or signal the server named by the PidFile.

#include <chrono>
#include <functional>
#include <string>

namespace collage::control {

// `serve` runs the server in this process (the background child for -k start) and returns its
// exit status; keep_stderr says whether that child keeps stderr (ErrorLog stderr) or lets it go.
// Returns the command's exit status.
int run_signal_command(const std::string& command, const std::string& pid_file,
                       std::chrono::milliseconds graceful_timeout, bool keep_stderr,
                       const std::function<int()>& serve);

}  // namespace collage::control
