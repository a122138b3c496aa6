// The HTTP/1.1 front end module: its directives and its registration.

#include "collage/core_settings.h"
#include "collage/registry.h"
#include "http1_connection.h"
#include "http1_settings.h"

namespace collage::http1 {
namespace {

const Directive kDirectives[] = {
    {.name = "KeepAlive",
     .type = ArgType::flag,
     .default_value = "on",
     .help = "Keep connections open between requests.",
     .field = bind<&Settings::keep_alive>()},
    {.name = "KeepAliveTimeout",
     .type = ArgType::duration,
     .default_value = "5s",
     .help = "How long an idle keep-alive connection waits for its next request.",
     .min = 1,
     .field = bind<&Settings::keep_alive_timeout>()},
    {.name = "MaxKeepAliveRequests",
     .type = ArgType::integer,
     .default_value = "1000",
     .help = "Requests served on one connection before it is closed; 0 for no limit.",
     .field = bind<&Settings::max_keep_alive_requests>()},
    {.name = "RequestHeaderTimeout",
     .type = ArgType::duration,
     .default_value = "20s",
     .help = "Time allowed to receive a whole request head; slower clients get 408 and are closed.",
     .min = 1,
     .field = bind<&Settings::header_timeout>()},
    {.name = "SendTimeout",
     .type = ArgType::duration,
     .default_value = "60s",
     .help = "Longest wait for the client to accept more response data.",
     .min = 1,
     .field = bind<&Settings::send_timeout>()},
    {.name = "LimitRequestLine",
     .type = ArgType::size,
     .default_value = "8190",
     .help = "Longest request line; 414 beyond it.",
     .min = 64,
     .max = 1024 * 1024,
     .field = bind<&Settings::limits, &ParseLimits::max_request_line>()},
    {.name = "LimitRequestFieldSize",
     .type = ArgType::size,
     .default_value = "8190",
     .help = "Longest single header field line; 431 beyond it.",
     .min = 64,
     .max = 1024 * 1024,
     .field = bind<&Settings::limits, &ParseLimits::max_field_size>()},
    {.name = "LimitRequestFields",
     .type = ArgType::integer,
     .default_value = "100",
     .help = "Most header fields in one request; 431 beyond it.",
     .min = 1,
     .max = 10000,
     .field = bind<&Settings::limits, &ParseLimits::max_fields>()},
    {.name = "LimitRequestHeaders",
     .type = ArgType::size,
     .default_value = "64k",
     .help = "Largest request head (request line plus all fields); 431 beyond it.",
     .min = 1024,
     .max = 16 * 1024 * 1024,
     .field = bind<&Settings::max_head_size>()},
};

class Http1Protocol final : public Protocol {
 public:
  explicit Http1Protocol(Settings settings) : settings_(settings) {}

  Task<void> serve(std::unique_ptr<Transport> transport, ConnectionContext context) const override {
    const ConnectionContext saved = context;
    std::unique_ptr<Transport> rest;
    Handover handover;
    {
      Connection connection(std::move(transport), std::move(context), settings_);
      co_await connection.run();
      if (!connection.handover()) {
        co_return;
      }
      rest = connection.release_transport();
      handover = std::move(*connection.handover());
    }
    // h2c: the same connection continues as HTTP/2.
    co_await saved.generation->protocol("h2")->take_over(std::move(rest), saved, handover);
  }

 private:
  Settings settings_;
};

std::unique_ptr<Protocol> make_protocol(const Scope& server, ConfigErrors& errors) {
  Settings s = server.read<Settings>(kDirectives);
  s.body_timeout = server_settings(server).request_body_timeout;
  if (s.max_head_size < s.limits.max_request_line) {
    errors.add(server.where("LimitRequestHeaders"),
               "LimitRequestHeaders must be at least LimitRequestLine");
  }
  return std::make_unique<Http1Protocol>(s);
}

}  // namespace

void register_module(Registry& registry) {
  registry.add_module({"http1", ModuleKind::protocol, "HTTP/1.1 front end (RFC 9110, RFC 9112)"},
                      kDirectives);
  registry.add_protocol("http1", {make_protocol, "http/1.1", {"h2"}});
}

}  // namespace collage::http1
