#include "pid_file.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

namespace collage::control {

bool write_pid_file(const std::string& path, std::string& error) {
  if (path == "off" || path.empty()) {
    return true;
  }
  // Written whole to a temporary name and renamed, so a reader never sees half a number.
  const std::string temporary = path + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = "cannot write PidFile " + path + ": " + std::strerror(errno);
    return false;
  }
  const std::string text = std::to_string(::getpid()) + "\n";
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!written || ::rename(temporary.c_str(), path.c_str()) != 0) {
    error = "cannot write PidFile " + path + ": " + std::strerror(errno);
    ::unlink(temporary.c_str());
    return false;
  }
  return true;
}

void remove_pid_file(const std::string& path) {
  if (path != "off" && !path.empty()) {
    ::unlink(path.c_str());
  }
}

pid_t running_pid(const std::string& path) {
  std::ifstream in(path);
  long pid = 0;
  if (!(in >> pid) || pid <= 0) {
    return 0;
  }
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
    return 0;
  }
  return static_cast<pid_t>(pid);
}

}  // namespace collage::control
