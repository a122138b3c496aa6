// Combined Log Format lines, shared by every front end.

#include <fmt/format.h>

#include <ctime>

#include "collage/log.h"
#include "log_io.h"

namespace collage {
namespace {

// Quotes a request field, escaping what would break the line or a terminal reading it.
void append_quoted(std::string_view value, std::string& out) {
  out += '"';
  if (value.empty()) {
    out += '-';
  }
  for (unsigned char c : value) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

}  // namespace

std::string_view cache_outcome(std::string_view cache_status) {
  if (cache_status.empty()) {
    return "-";
  }
  const bool hit = cache_status.find("; hit") != std::string_view::npos;
  if (hit && cache_status.find("detail=stale") != std::string_view::npos) {
    return "STALE";
  }
  if (hit) {
    return "HIT";
  }
  if (cache_status.find("fwd-status=304") != std::string_view::npos) {
    return "REVALIDATED";
  }
  if (cache_status.find("fwd=stale") != std::string_view::npos) {
    return "EXPIRED";
  }
  if (cache_status.find("fwd=bypass") != std::string_view::npos) {
    return "BYPASS";
  }
  return "MISS";
}

void append_access_line(AccessLog& log, const AccessRecord& record, bool cache_field) {
  thread_local std::string line;
  line.clear();
  line += record.client;
  line += " - ";
  if (record.user.empty()) {
    line += '-';
  } else {
    for (unsigned char c : record.user) {
      line += (c <= 0x20 || c >= 0x7f) ? '?' : static_cast<char>(c);
    }
  }
  line += ' ';
  thread_local SecondStamp stamp;
  line += local_time_each_second(stamp, "[%d/%b/%Y:%H:%M:%S %z]");
  line += ' ';
  append_quoted(record.request_line, line);
  line += fmt::format(" {} ", record.status);
  if (record.bytes == 0) {
    line += '-';
  } else {
    line += fmt::format("{}", record.bytes);
  }
  line += ' ';
  append_quoted(record.referer, line);
  line += ' ';
  append_quoted(record.user_agent, line);
  if (cache_field) {
    line += ' ';
    line += cache_outcome(record.cache_status);
  }
  line += '\n';
  log.append(line);
}

}  // namespace collage
