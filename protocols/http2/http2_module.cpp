// The HTTP/2 front end module: its directives and its registration.

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
     .max = 100000},
    {.name = "H2InitialWindowSize",
     .type = ArgType::size,
     .default_value = "65535",
     .help = "Flow-control window per stream for request bodies (SETTINGS_INITIAL_WINDOW_SIZE).",
     .min = 1,
     .max = 2147483647},
    {.name = "H2ConnectionWindowSize",
     .type = ArgType::size,
     .default_value = "1m",
     .help = "Flow-control window for the whole connection.",
     .min = 65535,
     .max = 2147483647},
    {.name = "H2MaxHeaderListSize",
     .type = ArgType::size,
     .default_value = "64k",
     .help = "Largest decoded header list (RFC 9113 §6.5.2 sizes); beyond it the stream gets 431.",
     .min = 1024,
     .max = 16 * 1024 * 1024},
    {.name = "H2IdleTimeout",
     .type = ArgType::duration,
     .default_value = "60s",
     .help = "How long a connection with no open stream is kept.",
     .min = 1},
    {.name = "H2StallTimeout",
     .type = ArgType::duration,
     .default_value = "30s",
     .help = "How long responses may wait on a client that opens no flow-control window.",
     .min = 1},
    {.name = "H2ResetBurst",
     .type = ArgType::integer,
     .default_value = "1000",
     .help = "Stream resets a client may send in a burst before GOAWAY (rapid reset).",
     .min = 1},
    {.name = "H2ResetRate",
     .type = ArgType::integer,
     .default_value = "33",
     .help = "Stream resets per second a client may send in the long run.",
     .min = 1},
    {.name = "H2MaxEmptyFrames",
     .type = ArgType::integer,
     .default_value = "64",
     .help = "Empty DATA frames (without END_STREAM) tolerated per connection.",
     .min = 1},
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
  Settings s;
  s.max_concurrent_streams = static_cast<std::uint32_t>(server.integer("H2MaxConcurrentStreams"));
  s.initial_window_size = static_cast<std::uint32_t>(server.size("H2InitialWindowSize"));
  s.connection_window_size = static_cast<std::uint32_t>(server.size("H2ConnectionWindowSize"));
  s.max_header_list_size = static_cast<std::uint32_t>(server.size("H2MaxHeaderListSize"));
  s.idle_timeout = server.duration("H2IdleTimeout");
  s.stall_timeout = server.duration("H2StallTimeout");
  s.body_timeout = server.duration("RequestBodyTimeout");
  s.reset_burst = static_cast<std::uint64_t>(server.integer("H2ResetBurst"));
  s.reset_rate = static_cast<std::uint64_t>(server.integer("H2ResetRate"));
  s.max_empty_frames = static_cast<std::uint32_t>(server.integer("H2MaxEmptyFrames"));
  return std::make_unique<Http2Protocol>(s);
}

}  // namespace

void register_module(Registry& registry) {
  registry.add_module({"http2", ModuleKind::protocol, "HTTP/2 front end (RFC 9113, nghttp2)"},
                      kDirectives);
  registry.add_protocol("h2", {make_protocol, "h2", {}});
}

}  // namespace collage::http2
