// The JSON access log line (AccessLogFormat json): one object per request, for log shippers
// that would otherwise parse Combined Log Format with a regular expression.

#include <fmt/format.h>

#include <chrono>
#include <ctime>

#include "collage/generation.h"
#include "collage/json_text.h"
#include "collage/log.h"
#include "collage/request.h"
#include "log_io.h"

namespace collage {
namespace {

void append_field(std::string_view name, std::string_view value, std::string& out) {
  out += ",\"";
  out += name;
  out += "\":";
  append_json_string(value, out);
}

}  // namespace

void append_access_json(AccessLog& log, const AccessRecord& record) {
  thread_local std::string line;
  line.clear();
  line += "{\"time\":";
  thread_local SecondStamp stamp;
  append_json_string(local_time_each_second(stamp, "%Y-%m-%dT%H:%M:%S%z"), line);
  append_field("client", record.client, line);
  append_field("user", record.user, line);
  append_field("protocol", record.protocol, line);
  const Request* request = record.request;
  const VirtualHost* host = request != nullptr ? request->routed_host : nullptr;
  const Location* location = request != nullptr ? request->routed_location : nullptr;
  append_field("vhost", host != nullptr ? std::string_view(host->name) : "", line);
  append_field("store", location != nullptr ? std::string_view(location->store_name) : "", line);
  append_field("request", record.request_line, line);
  fmt::format_to(std::back_inserter(line), ",\"status\":{},\"bytes\":{}", record.status,
                 record.bytes);
  std::int64_t duration_us = record.duration_us;
  if (duration_us < 0 && request != nullptr) {
    duration_us = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::system_clock::now() - request->received)
                      .count();
  }
  if (duration_us >= 0) {
    fmt::format_to(std::back_inserter(line), ",\"duration_ms\":{:.3f}",
                   static_cast<double>(duration_us) / 1000.0);
  }
  append_field("cache", cache_outcome(record.cache_status), line);
  append_field("tls", record.tls_version, line);
  append_field("referer", record.referer, line);
  append_field("user_agent", record.user_agent, line);
  if (request != nullptr && request->id[0] != '\0') {
    append_field("id", request->id_text(), line);
  }
  line += "}\n";
  log.append(line);
}

}  // namespace collage
