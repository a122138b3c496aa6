// The Gopher front end module: its directives and its registration.

#include "collage/registry.h"
#include "gopher_connection.h"

namespace collage::gopher_protocol {
namespace {

const Directive kDirectives[] = {
    {.name = "GopherSelectorLimit",
     .type = ArgType::size,
     .default_value = "1k",
     .help = "Longest selector line accepted; longer ones get an error item.",
     .min = 64,
     .max = 64 * 1024,
     .field = bind<&Settings::max_selector>()},
    {.name = "GopherTextFraming",
     .type = ArgType::flag,
     .default_value = "on",
     .help = "Send text items as RFC 1436 asks (CRLF lines, leading dots doubled, a final '.' "
             "line); off sends text files byte for byte, as many servers do.",
     .field = bind<&Settings::text_framing>()},
    {.name = "GopherTimeout",
     .type = ArgType::duration,
     .default_value = "10s",
     .help = "Time to receive the selector, and longest wait for a client to accept data.",
     .min = 1,
     .field = bind<&Settings::timeout>()},
};

class GopherProtocol final : public Protocol {
 public:
  explicit GopherProtocol(Settings settings) : settings_(settings) {}
  Task<void> serve(std::unique_ptr<Transport> transport, ConnectionContext context) const override {
    Connection connection(std::move(transport), std::move(context), settings_);
    co_await connection.run();
  }

 private:
  Settings settings_;
};

}  // namespace

void register_module(Registry& registry) {
  registry.add_module({"gopher", ModuleKind::protocol, "Gopher front end (RFC 1436)"}, kDirectives);
  registry.add_protocol(
      "gopher", {[](const Scope& server, ConfigErrors&) -> std::unique_ptr<Protocol> {
        return std::make_unique<GopherProtocol>(server.read<Settings>(kDirectives));
      }});
}

}  // namespace collage::gopher_protocol
