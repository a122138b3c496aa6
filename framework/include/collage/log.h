#pragma once
// The error log (levels, one stable ID per message) and the access log (Combined Log Format).
// Every warning or error carries an ID such as COL-HTTP1-0003 that never changes meaning.

#include <fmt/format.h>

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace collage {

struct Request;

enum class LogLevel : std::uint8_t { emerg, alert, crit, error, warn, notice, info, debug };

std::string_view log_level_name(LogLevel level);

// Client-supplied text made safe for a log line: bytes outside printable ASCII become \xNN, so
// a request cannot forge log lines or break a reader that expects text.
std::string printable(std::string_view untrusted);
bool parse_log_level(std::string_view text, LogLevel& out);

class ErrorLog {
 public:
  // "stderr", a file path (opened for append), or "syslog" / "syslog:SOCKET" (datagrams to
  // /dev/log or SOCKET, which journald and every syslog daemon read). Returns false and leaves
  // the old target in place when it cannot be opened.
  bool open(const std::string& target, std::string& error);
  // One JSON object a line (time, level, pid, id, message) instead of text; not for syslog,
  // whose messages carry the level in their priority.
  void set_json(bool json) { json_ = json; }
  // For a server in the background: points descriptor 2 at the log file, now and after every
  // reopen, so what anything writes to stderr (a library, an abort message) lands in the log.
  void capture_stderr();
  void set_level(LogLevel level) { level_ = level; }
  bool enabled(LogLevel level) const { return level <= level_; }

  void write(LogLevel level, std::string_view id, std::string_view message);

  template <typename... Args>
  void log(LogLevel level, std::string_view id, fmt::format_string<Args...> format,
           Args&&... args) {
    if (enabled(level)) {
      write(level, id, fmt::format(format, std::forward<Args>(args)...));
    }
  }

 private:
  std::mutex mutex_;
  int fd_ = 2;
  bool capture_stderr_ = false;
  bool syslog_ = false;  // fd_ is a datagram socket to a syslog daemon
  bool json_ = false;
  LogLevel level_ = LogLevel::info;
};

// The process-wide error log; MPMs and modules write here.
ErrorLog& error_log();

#define COLLAGE_LOG(level, id, ...)                       \
  do {                                                    \
    if (::collage::error_log().enabled(level)) {          \
      ::collage::error_log().log(level, id, __VA_ARGS__); \
    }                                                     \
  } while (0)

// Buffered access log. Lines are appended under a short lock and handed in blocks (64 KiB, or
// at least once a second by flush()) to a writer thread of the process, so neither a request
// nor the event loop waits for the disk. A disk that falls behind by more than 16 MiB makes
// appends wait for it (lines are kept, not dropped). The writer starts with the first hand-off
// in the process that appends, so a log opened before fork() works in every child.
class AccessLog {
 public:
  AccessLog();
  ~AccessLog();
  AccessLog(const AccessLog&) = delete;
  AccessLog& operator=(const AccessLog&) = delete;
  bool open(const std::string& path, std::string& error);
  void append(std::string_view line);
  // Hands what is buffered to the writer (returns at once).
  void flush();
  // Writes everything buffered or handed over, and returns once it is written.
  void sync();

 private:
  void hand_off(std::unique_lock<std::mutex>& lock);
  void write_loop();

  std::mutex mutex_;
  std::condition_variable work_;     // the writer waits here for a block
  std::condition_variable drained_;  // appends wait here when the writer is far behind
  std::string buffer_;               // being filled
  std::string pending_;              // handed to the writer
  bool writing_ = false;             // the writer holds a block outside the lock
  bool stop_ = false;
  int fd_ = -1;
  std::thread* writer_ = nullptr;  // owned by the process writer_pid_ (a forked copy leaks it)
  int writer_pid_ = 0;
};

// Writes every access log of this process out before it ends (a child calls this before
// _exit(), which runs no destructor): lines handed to a writer thread are not lost.
void sync_access_logs();

// One request as the access log records it; every front end fills one, so all protocols are
// logged alike. Views are only read during append_access_line().
struct AccessRecord {
  std::string_view client;
  std::string_view user;          // empty: "-"
  std::string_view request_line;  // e.g. "GET /a HTTP/1.1", "GET /a HTTP/2.0", "GOPHER /sel"
  int status = 0;
  std::uint64_t bytes = 0;  // body bytes sent
  std::string_view referer;
  std::string_view user_agent;
  std::string_view cache_status;  // the response's Cache-Status field, empty if none
  // For metrics: the front end ("http1", "http2", "gopher") and the request as routed (its
  // host, location and arrival time); null for a request that never became one.
  std::string_view protocol;
  const Request* request = nullptr;
  std::int64_t duration_us = -1;  // when known better than from the request's arrival
  std::string_view tls_version;   // "TLSv1.3"; empty over plain TCP
};

// The cache outcome in nginx's words (HIT, MISS, EXPIRED, REVALIDATED, STALE, BYPASS), from a
// Cache-Status field (RFC 9211); "-" when the response did not touch the cache.
std::string_view cache_outcome(std::string_view cache_status);

// Appends one Combined Log Format line; bytes that would break the line are escaped.
// With `cache_field`, the cache outcome follows as a last field (AccessLogFormat cache).
void append_access_line(AccessLog& log, const AccessRecord& record, bool cache_field = false);
// Appends one JSON object on a line (AccessLogFormat json): time, client, user, protocol,
// virtual host, store, request line, status, bytes, duration, cache outcome, TLS version,
// referer, user agent and request id. Bytes outside printable ASCII are \u-escaped.
void append_access_json(AccessLog& log, const AccessRecord& record);

}  // namespace collage
