#pragma once
// The framework's own directives as typed structs, filled from their table rows (see
// Scope::fill): the server-wide ones, the ones every place (server, virtual host, location) may
// set, and the control process's. Modules read these fields, never the directives by name.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "collage/directive.h"

namespace collage {

struct ServerSettings {
  std::optional<std::string> mpm;                               // Mpm
  std::string error_log;                                        // ErrorLog: "stderr" or a path
  std::string log_level;                                        // LogLevel
  std::string error_log_format;                                 // ErrorLogFormat
  int listen_backlog = 4096;                                    // ListenBacklog
  std::string access_log;                                       // AccessLog: "off" or a path
  std::string access_log_format;                                // AccessLogFormat
  bool request_metrics = true;                                  // RequestMetrics
  std::vector<std::string> real_ip_from;                        // RealIpFrom
  std::string real_ip_header;                                   // RealIpHeader
  std::chrono::milliseconds request_body_timeout{60'000};       // RequestBodyTimeout
  std::chrono::milliseconds graceful_shutdown_timeout{30'000};  // GracefulShutdownTimeout
  int max_connections_per_address = 0;                          // MaxConnectionsPerAddress
  int request_rate_per_address = 0;                             // RequestRatePerAddress
};

struct PlaceSettings {
  std::vector<std::string> server_alias;            // ServerAlias (virtual hosts)
  std::string store;                                // Store
  std::vector<std::string> protocols;               // Protocols; empty = all
  std::vector<std::string> filters;                 // Filters
  std::uint64_t limit_request_body = 0;             // LimitRequestBody
  std::size_t stream_buffer_size = 64 * 1024;       // StreamBufferSize
  std::uint64_t filter_buffer_limit = 1024 * 1024;  // FilterBufferLimit
  std::optional<std::string> server_name;           // ServerName
};

struct ProcessSettings {
  std::uint32_t start_servers = 1;
  std::uint32_t server_limit = 16;
  std::uint32_t threads_per_child = 25;
  std::uint32_t thread_limit = 64;
  std::uint32_t max_request_workers = 400;
  std::uint32_t min_spare_threads = 10;
  std::uint32_t max_spare_threads = 75;
  std::uint64_t max_connections_per_child = 0;
  std::optional<std::string> user;
  std::optional<std::string> group;
  std::string pid_file;  // "off" or a path
};

ServerSettings server_settings(const Scope& server);
PlaceSettings place_settings(const Scope& scope);
ProcessSettings process_settings(const Scope& server);

}  // namespace collage
