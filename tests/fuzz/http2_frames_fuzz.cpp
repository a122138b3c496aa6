// The HTTP/2 front end fed whole frame sequences after the client preface, through nghttp2 and
// our callbacks, read in pieces the input chooses, with a store that reads each request body to
// its end and answers. Invariants: the connection ends once the client's bytes do (nothing
// waits forever), and whatever the server wrote starts with its SETTINGS frame.

#include <cstdint>
#include <cstdlib>
#include <deque>
#include <memory>
#include <string>
#include <string_view>

#include "collage/config.h"
#include "collage/generation.h"
#include "collage/middle_end.h"
#include "collage/registry.h"
#include "scripted_transport.h"

namespace collage::http2 {
void register_module(Registry& registry);
}

namespace {

using namespace collage;

struct StoreConfig {
  std::string unused;
};
const Directive kStoreDirectives[] = {
    {.name = "H2FuzzUnused", .field = bind<&StoreConfig::unused>()},
};

// Reads the request body, if any, and answers how much it read.
class BodyReadingStore final : public Store {
 public:
  MethodSet methods() const override {
    return MethodSet{Method::get, Method::head, Method::post, Method::put};
  }
  Task<void> handle(RequestContext& ctx, Entity& out) const override {
    std::uint64_t total = 0;
    if (ctx.request.body != nullptr) {
      char buffer[4096];
      while (true) {
        const BodyRead read = co_await ctx.request.body->read(std::span<char>(buffer));
        if (read.error != BodyError::none) {
          out.set_error(body_error_status(read.error) == 0 ? 400 : body_error_status(read.error));
          co_return;
        }
        if (read.bytes == 0) {
          break;
        }
        total += read.bytes;
      }
    }
    out.set_body("read " + std::to_string(total) + "\n", "text/plain");
  }
};

struct Fixture {
  Registry registry;
  ConfigErrors errors;
  std::shared_ptr<const Generation> generation;

  Fixture() {
    http2::register_module(registry);
    registry.add_module({"h2fuzz", ModuleKind::store, "fuzz store"}, kStoreDirectives);
    registry.add_store("reader", [](const Scope&, ConfigErrors&) -> std::unique_ptr<Store> {
      return std::make_unique<BodyReadingStore>();
    });
    registry.add_mpm("event", [](const Scope&, ConfigErrors&) { return nullptr; });
    LoadOptions options;
    options.use_environment = false;
    auto config = load_config_text(
        "<Collage><Mpm>event</Mpm><Listen protocol=\"h2\" port=\"0\"/><Store>reader</Store>"
        "<LimitRequestBody>64k</LimitRequestBody></Collage>",
        "h2-fuzz.xml", registry.directives(), options, errors);
    generation = config ? Generation::build(std::move(config), registry, errors) : nullptr;
    if (generation == nullptr) {
      std::abort();
    }
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture* fixture = new Fixture();
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // The first byte sets the size of the pieces reads return (1 to 256 bytes).
  const std::size_t piece = input.empty() ? 1 : 1 + static_cast<unsigned char>(input[0]);
  const std::string_view frames = input.empty() ? input : input.substr(1);
  std::deque<std::string> script{"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"};
  for (std::size_t at = 0; at < frames.size(); at += piece) {
    script.emplace_back(frames.substr(at, piece));
  }
  testing::Fault fault;
  fault.bound = std::chrono::milliseconds(5000);
  const testing::WireRecord wire =
      testing::serve_scripted(fixture->generation, "h2", script, fault);
  if (!wire.ended) {
    std::abort();  // the client's bytes ended, the connection did not
  }
  if (wire.output.size() >= 9 && wire.output[3] != 0x04) {
    std::abort();  // the server's first frame is its SETTINGS
  }
  return 0;
}
