#include "collage/log.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "collage/json_text.h"
#include "collage/metadata.h"
#include "log_io.h"

namespace collage {
namespace {

constexpr std::array<std::string_view, 8> kLevelNames = {"emerg", "alert",  "crit", "error",
                                                         "warn",  "notice", "info", "debug"};

}  // namespace

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return;  // nowhere left to report a failing log; drop the line rather than block
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

std::string_view local_time_each_second(SecondStamp& stamp, const char* format) {
  const std::time_t now = std::time(nullptr);
  if (now != stamp.second) {
    stamp.second = now;
    std::tm tm{};
    ::localtime_r(&now, &tm);
    stamp.length = std::strftime(stamp.text, sizeof stamp.text, format, &tm);
  }
  return {stamp.text, stamp.length};
}

std::string printable(std::string_view untrusted) {
  std::string out;
  out.reserve(untrusted.size());
  for (unsigned char c : untrusted) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\x{:02x}", c);
    }
  }
  return out;
}

std::string_view log_level_name(LogLevel level) {
  return kLevelNames[static_cast<int>(level)];
}

bool parse_log_level(std::string_view text, LogLevel& out) {
  for (std::size_t i = 0; i < kLevelNames.size(); ++i) {
    if (iequals(kLevelNames[i], text)) {
      out = static_cast<LogLevel>(i);
      return true;
    }
  }
  return false;
}

namespace {

// A datagram socket connected to a syslog daemon's socket, or -1 with error set.
int connect_syslog(std::string_view path, std::string& error) {
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (path.size() >= sizeof address.sun_path) {
    error = "syslog socket path too long: " + std::string(path);
    return -1;
  }
  std::memcpy(address.sun_path, path.data(), path.size());
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || ::connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    error = "cannot reach syslog at " + std::string(path) + ": " + std::strerror(errno);
    if (fd >= 0) {
      ::close(fd);
    }
    return -1;
  }
  return fd;
}

}  // namespace

bool ErrorLog::open(const std::string& target, std::string& error) {
  int fd = 2;
  bool to_syslog = false;
  if (target == "syslog" || target.starts_with("syslog:")) {
    to_syslog = true;
    fd =
        connect_syslog(target == "syslog" ? "/dev/log" : std::string_view(target).substr(7), error);
    if (fd < 0) {
      return false;
    }
  } else if (target != "stderr") {
    fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (fd < 0) {
      error = "cannot open error log " + target + ": " + std::strerror(errno);
      return false;
    }
  }
  std::lock_guard lock(mutex_);
  if (fd_ > 2) {
    ::close(fd_);
  }
  fd_ = fd;
  syslog_ = to_syslog;
  if (capture_stderr_ && fd_ > 2 && !syslog_) {
    ::dup2(fd_, 2);
  }
  return true;
}

void ErrorLog::capture_stderr() {
  std::lock_guard lock(mutex_);
  capture_stderr_ = true;
  if (fd_ > 2 && !syslog_) {
    ::dup2(fd_, 2);
  }
}

void ErrorLog::write(LogLevel level, std::string_view id, std::string_view message) {
  timeval now{};
  ::gettimeofday(&now, nullptr);
  std::tm tm{};
  ::localtime_r(&now.tv_sec, &tm);
  char stamp[40];
  std::string line;
  if (syslog_) {
    // RFC 3164 as glibc's syslog() sends it: facility daemon (3); our levels are syslog's.
    const std::size_t n = std::strftime(stamp, sizeof stamp, "%b %e %H:%M:%S", &tm);
    line = fmt::format("<{}>{} collage[{}]: [{}] [{}] {}", 3 * 8 + static_cast<int>(level),
                       std::string_view(stamp, n), ::getpid(), log_level_name(level), id, message);
    std::lock_guard lock(mutex_);
    // A daemon that cannot keep up loses lines rather than stalling the server.
    (void)::send(fd_, line.data(), line.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    return;
  }
  if (json_) {
    const std::size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);
    char zone[8];
    const std::size_t z = std::strftime(zone, sizeof zone, "%z", &tm);
    line = fmt::format("{{\"time\":\"{}.{:03d}{}\",\"level\":\"{}\",\"pid\":{},\"id\":",
                       std::string_view(stamp, n), static_cast<int>(now.tv_usec / 1000),
                       std::string_view(zone, z), log_level_name(level), ::getpid());
    append_json_string(id, line);
    line += ",\"message\":";
    append_json_string(message, line);
    line += "}\n";
  } else {
    const std::size_t n = std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
    line = fmt::format("[{}.{:03d}] [{}] [pid {}] [{}] {}\n", std::string_view(stamp, n),
                       static_cast<int>(now.tv_usec / 1000), log_level_name(level), ::getpid(), id,
                       message);
  }
  std::lock_guard lock(mutex_);
  write_all(fd_, line);
}

ErrorLog& error_log() {
  static ErrorLog log;
  return log;
}

}  // namespace collage
