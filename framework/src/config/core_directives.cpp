#include "core_directives.h"

#include "collage/core_settings.h"

#include <array>

namespace collage {
namespace {

constexpr std::array<std::string_view, 8> kLogLevels = {"emerg", "alert",  "crit", "error",
                                                        "warn",  "notice", "info", "debug"};
constexpr std::array<std::string_view, 2> kErrorLogFormats = {"text", "json"};
constexpr std::array<std::string_view, 3> kAccessLogFormats = {"combined", "cache", "json"};

const Directive kCoreDirectives[] = {
    {.name = "Mpm",
     .type = ArgType::string,
     .contexts = kServerContext,
     .help = "The multi-processing module that carries connections: event, worker or prefork "
             "(collage -l lists those compiled in). Required; exactly one.",
     .field = bind<&ServerSettings::mpm>()},
    {.name = "ErrorLog",
     .type = ArgType::string,
     .contexts = kServerContext,
     .default_value = "stderr",
     .help = "Where the error log goes: stderr, a file path, or syslog (the /dev/log socket "
             "that journald and syslog daemons read; syslog:PATH for another socket).",
     .field = bind<&ServerSettings::error_log>()},
    {.name = "ErrorLogFormat",
     .type = ArgType::enumeration,
     .contexts = kServerContext,
     .default_value = "text",
     .help = "text, or json: one object a line with time, level, pid, message ID and message "
             "(files and stderr; syslog messages stay text).",
     .choices = kErrorLogFormats,
     .field = bind<&ServerSettings::error_log_format>()},
    {.name = "LogLevel",
     .type = ArgType::enumeration,
     .contexts = kServerContext,
     .default_value = "info",
     .help = "Least severe error-log level that is written.",
     .choices = kLogLevels,
     .field = bind<&ServerSettings::log_level>()},
    {.name = "ListenBacklog",
     .type = ArgType::integer,
     .contexts = kServerContext,
     .default_value = "4096",
     .help = "Connections the kernel queues on each listening socket before they are accepted "
             "(capped by net.core.somaxconn).",
     .min = 1,
     .max = 65535,
     .field = bind<&ServerSettings::listen_backlog>()},
    {.name = "MaxConnectionsPerAddress",
     .type = ArgType::integer,
     .contexts = kServerContext,
     .default_value = "0",
     .help = "Connections one client address may hold open to each front end at once, counted "
             "across every child (0: no limit); more are closed at once, logged (COL-CORE-0016) "
             "and counted as refused. Unix sockets are not counted; FTP has its own caps too.",
     .min = 0,
     .max = 1000000,
     .field = bind<&ServerSettings::max_connections_per_address>()},
    {.name = "RequestRatePerAddress",
     .type = ArgType::integer,
     .contexts = kServerContext,
     .default_value = "0",
     .help = "Requests a second one client address may make, over every protocol and child, "
             "counted in one-second windows (0: no limit); more are answered 429 with "
             "Retry-After (FTP 450, Gopher an error item), logged (COL-CORE-0015).",
     .min = 0,
     .max = 10000000,
     .field = bind<&ServerSettings::request_rate_per_address>()},
    {.name = "AccessLog",
     .type = ArgType::string,
     .contexts = kServerContext,
     .default_value = "off",
     .help = "Access log file in Combined Log Format, or off.",
     .field = bind<&ServerSettings::access_log>()},
    {.name = "RealIpFrom",
     .type = ArgType::list,
     .contexts = kServerContext,
     .help = "Proxies (addresses, CIDR blocks) whose RealIpHeader names the real client: logs, "
             "access rules and scripts see that client.",
     .field = bind<&ServerSettings::real_ip_from>()},
    {.name = "RealIpHeader",
     .type = ArgType::string,
     .contexts = kServerContext,
     .default_value = "X-Forwarded-For",
     .help = "Where trusted proxies name the client: X-Forwarded-For or Forwarded (the rightmost "
             "address that is not itself a trusted proxy).",
     .field = bind<&ServerSettings::real_ip_header>()},
    {.name = "AccessLogFormat",
     .type = ArgType::enumeration,
     .contexts = kServerContext,
     .default_value = "combined",
     .help = "combined; cache: Combined Log Format plus the cache outcome (HIT, MISS, "
             "EXPIRED, REVALIDATED, STALE, BYPASS or -) as a last field; json: one object a line "
             "with protocol, virtual host, store, duration, bytes, cache outcome and TLS version.",
     .choices = kAccessLogFormats,
     .field = bind<&ServerSettings::access_log_format>()},
    {.name = "RequestMetrics",
     .type = ArgType::flag,
     .contexts = kServerContext,
     .default_value = "on",
     .help = "Count every request by front end, virtual host, store and status class, with its "
             "bytes and duration, for the metrics and status stores (docs/operations.md).",
     .field = bind<&ServerSettings::request_metrics>()},
    {.name = "ServerAlias",
     .type = ArgType::list,
     .contexts = kVirtualHostContext,
     .help = "Further host names this virtual host answers to.",
     .field = bind<&PlaceSettings::server_alias>()},
    {.name = "Store",
     .type = ArgType::string,
     .contexts = kAnyContext,
     .default_value = "files",
     .help = "The store that answers requests in this location (files, …).",
     .field = bind<&PlaceSettings::store>()},
    {.name = "Protocols",
     .type = ArgType::list,
     .contexts = kAnyContext,
     .help = "Front ends (http1, h2, ftp, gopher) whose requests this place answers; others get "
             "403. Unset: all.",
     .field = bind<&PlaceSettings::protocols>()},
    {.name = "Filters",
     .type = ArgType::list,
     .contexts = kAnyContext,
     .help = "Filters to enable here by name; -name turns off one that is on by default.",
     .field = bind<&PlaceSettings::filters>()},
    {.name = "LimitRequestBody",
     .type = ArgType::size,
     .contexts = kAnyContext,
     .default_value = "1g",
     .help = "Largest request body accepted (413 beyond it); 0 refuses every body.",
     .field = bind<&PlaceSettings::limit_request_body>()},
    {.name = "StreamBufferSize",
     .type = ArgType::size,
     .contexts = kAnyContext,
     .default_value = "64k",
     .help = "Most bytes of a streamed response held at once per request: a front end pulls "
             "the next part only after writing this one, so a slow client slows the producer.",
     .min = 1024,
     .max = 16 * 1024 * 1024,
     .field = bind<&PlaceSettings::stream_buffer_size>()},
    {.name = "FilterBufferLimit",
     .type = ArgType::size,
     .contexts = kAnyContext,
     .default_value = "1m",
     .help = "Most bytes of a streamed body buffered for a filter that must see the whole body "
             "(ranges, gopher menus as HTML); beyond it the filter does what it declares.",
     .max = 1024LL * 1024 * 1024,
     .field = bind<&PlaceSettings::filter_buffer_limit>()},
    {.name = "ServerName",
     .type = ArgType::string,
     .contexts = kAnyContext,
     .help = "The host name this server gives for itself in what it generates (Gopher menus, "
             "links); default: the address the request came to.",
     .field = bind<&PlaceSettings::server_name>()},
    {.name = "RequestBodyTimeout",
     .type = ArgType::duration,
     .contexts = kServerContext,
     .default_value = "60s",
     .help = "Longest wait between two reads of a request body (HTTP/1.1 and HTTP/2).",
     .min = 1,
     .field = bind<&ServerSettings::request_body_timeout>()},
    {.name = "GracefulShutdownTimeout",
     .type = ArgType::duration,
     .contexts = kServerContext,
     .default_value = "30s",
     .help = "How long a stopping server lets running requests finish before closing them.",
     .field = bind<&ServerSettings::graceful_shutdown_timeout>()},
};

}  // namespace

std::span<const Directive> core_directives() {
  return kCoreDirectives;
}

ServerSettings server_settings(const Scope& server) {
  return server.read<ServerSettings>(kCoreDirectives);
}

PlaceSettings place_settings(const Scope& scope) {
  return scope.read<PlaceSettings>(kCoreDirectives);
}

}  // namespace collage
