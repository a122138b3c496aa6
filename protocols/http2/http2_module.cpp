// The HTTP/2 front end module: its directives and its registration.

#include "collage/core_settings.h"
#include "collage/registry.h"
#include "http2_connection.h"
#include "http2_settings.h"

namespace collage::http2 {
namespace {

const Directive kDirectives[] = {
    {.name = "H2MaxConcurrentStreams",
     .type = ArgType::integer,
     .default_value = "128",
     .help = "Streams a client may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS).",
     .min = 1,
     .max = 100000,
     .field = bind<&Settings::max_concurrent_streams>()},
    {.name = "H2InitialWindowSize",
     .type = ArgType::size,
     .default_value = "65535",
     .help = "Flow-control window per stream for request bodies (SETTINGS_INITIAL_WINDOW_SIZE).",
     .min = 1,
     .max = 2147483647,
     .field = bind<&Settings::initial_window_size>()},
    {.name = "H2ConnectionWindowSize",
     .type = ArgType::size,
     .default_value = "1m",
     .help = "Flow-control window for the whole connection.",
     .min = 65535,
     .max = 2147483647,
     .field = bind<&Settings::connection_window_size>()},
    {.name = "H2MaxHeaderListSize",
     .type = ArgType::size,
     .default_value = "64k",
     .help = "Largest decoded header list (RFC 9113 §6.5.2 sizes); beyond it the stream gets 431.",
     .min = 1024,
     .max = 16 * 1024 * 1024,
     .field = bind<&Settings::max_header_list_size>()},
    {.name = "H2IdleTimeout",
     .type = ArgType::duration,
     .default_value = "60s",
     .help = "How long a connection with no open stream is kept.",
     .min = 1,
     .field = bind<&Settings::idle_timeout>()},
    {.name = "H2StallTimeout",
     .type = ArgType::duration,
     .default_value = "30s",
     .help = "How long responses may wait on a client that opens no flow-control window.",
     .min = 1,
     .field = bind<&Settings::stall_timeout>()},
    {.name = "H2ResetBurst",
     .type = ArgType::integer,
     .default_value = "1000",
     .help = "Stream resets a client may send in a burst before GOAWAY (rapid reset).",
     .min = 1,
     .field = bind<&Settings::reset_burst>()},
    {.name = "H2ResetRate",
     .type = ArgType::integer,
     .default_value = "33",
     .help = "Stream resets per second a client may send in the long run.",
     .min = 1,
     .field = bind<&Settings::reset_rate>()},
    {.name = "H2MaxEmptyFrames",
     .type = ArgType::integer,
     .default_value = "64",
     .help = "Empty DATA frames (without END_STREAM) tolerated per connection.",
     .min = 1,
     .field = bind<&Settings::max_empty_frames>()},
};

class Http2Protocol final : public Protocol {
 public:
  explicit Http2Protocol(Settings settings) : settings_(settings) {}

  Task<void> serve(std::unique_ptr<Transport> transport, ConnectionContext context) const override {
    Connection connection(std::move(transport), std::move(context), settings_);
    const Handover none;
    co_await connection.run(none);
  }

  Task<void> take_over(std::unique_ptr<Transport> transport, ConnectionContext context,
                       const Handover& handover) const override {
    Connection connection(std::move(transport), std::move(context), settings_);
    co_await connection.run(handover);
  }

 private:
  Settings settings_;
};

std::unique_ptr<Protocol> make_protocol(const Scope& server, ConfigErrors&) {
  Settings s = server.read<Settings>(kDirectives);
  s.body_timeout = server_settings(server).request_body_timeout;
  return std::make_unique<Http2Protocol>(s);
}

}  // namespace

void register_module(Registry& registry) {
  registry.add_module({"http2", ModuleKind::protocol, "HTTP/2 front end (RFC 9113, nghttp2)"},
                      kDirectives);
  registry.add_protocol("h2", {make_protocol, "h2", {}});
}

}  // namespace collage::http2
