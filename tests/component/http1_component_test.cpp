// The HTTP/1.1 front end and the pipeline driven through a scripted transport: every way a
// connection can fail (the Nth read, the Nth write, a reset at the end) on ready and streamed
// bodies, and requests split at every byte boundary. No sockets, no timing.

#include <gtest/gtest.h>

#include <chrono>
#include <deque>
#include <memory>
#include <string>

#include "collage/config.h"
#include "collage/generation.h"
#include "collage/middle_end.h"
#include "collage/registry.h"
#include "scripted_transport.h"

namespace collage::http1 {
void register_module(Registry& registry);
}

namespace collage::testing {
namespace {

// What the streaming store's producers did, across a test.
struct Outcomes {
  int finished = 0;
  int cancelled = 0;
};
Outcomes outcomes;

// "abc…" in parts of 1000 bytes; counts whether it ran to the end or was dropped before.
class CountingStream final : public BodyStream {
 public:
  explicit CountingStream(std::size_t size) : size_(size) {}
  ~CountingStream() override { (done_ ? outcomes.finished : outcomes.cancelled) += 1; }
  Task<StreamStatus> next(Brigade& out, std::size_t limit) override {
    const std::size_t n = std::min({std::size_t{1000}, limit, size_ - made_});
    std::string part(n, '\0');
    for (std::size_t i = 0; i < n; ++i) {
      part[i] = static_cast<char>('a' + (made_ + i) % 26);
    }
    made_ += n;
    out.append_owned(std::move(part));
    done_ = made_ == size_;
    co_return done_ ? StreamStatus::end : StreamStatus::more;
  }

 private:
  std::size_t size_;
  std::size_t made_ = 0;
  bool done_ = false;
};

struct StoreConfig {
  std::string unused;
};
const Directive kStoreDirectives[] = {
    {.name = "ComponentUnused", .field = bind<&StoreConfig::unused>()},
};

// /ready: a 5000-byte memory body; /stream: 5000 bytes streamed, length unknown.
class ComponentStore final : public Store {
 public:
  MethodSet methods() const override { return MethodSet{Method::get, Method::head}; }
  Task<void> handle(RequestContext& ctx, Entity& out) const override {
    out.status = 200;
    out.content_type = "text/plain";
    if (ctx.request.path == "/stream") {
      out.stream = std::make_unique<CountingStream>(kSize);
    } else {
      std::string body(kSize, '\0');
      for (std::size_t i = 0; i < kSize; ++i) {
        body[i] = static_cast<char>('a' + i % 26);
      }
      out.set_body(std::move(body), "text/plain");
    }
    co_return;
  }
  static constexpr std::size_t kSize = 5000;
};

class Http1Component : public ::testing::Test {
 protected:
  Http1Component() {
    http1::register_module(registry);
    registry.add_module({"component", ModuleKind::store, "test store"}, kStoreDirectives);
    registry.add_store("component", [](const Scope&, ConfigErrors&) -> std::unique_ptr<Store> {
      return std::make_unique<ComponentStore>();
    });
    registry.add_mpm("event", [](const Scope&, ConfigErrors&) { return nullptr; });
    LoadOptions options;
    options.use_environment = false;
    auto config = load_config_text(
        "<Collage><Mpm>event</Mpm><Listen protocol=\"http1\" port=\"0\"/>"
        "<Store>component</Store><StreamBufferSize>2k</StreamBufferSize></Collage>",
        "component.xml", registry.directives(), options, errors);
    EXPECT_TRUE(config);
    generation = Generation::build(std::move(config), registry, errors);
    EXPECT_TRUE(generation) << (errors.empty() ? "" : errors.messages().front());
    outcomes = {};
  }

  WireRecord serve(std::deque<std::string> input, const Fault& fault = {}) {
    WireRecord wire = serve_scripted(generation, "http1", std::move(input), fault);
    EXPECT_TRUE(wire.ended) << "the connection did not end";
    return wire;
  }

  Registry registry;
  ConfigErrors errors;
  std::shared_ptr<const Generation> generation;
};

// The body of a chunked response, de-chunked; empty if the framing is broken or unfinished.
std::string dechunk(std::string_view body, bool& complete) {
  std::string out;
  complete = false;
  while (true) {
    const std::size_t eol = body.find("\r\n");
    if (eol == std::string_view::npos) {
      return out;
    }
    const std::size_t size = std::stoul(std::string(body.substr(0, eol)), nullptr, 16);
    body.remove_prefix(eol + 2);
    if (size == 0) {
      complete = body == "\r\n";
      return out;
    }
    if (body.size() < size + 2) {
      return out;
    }
    out += body.substr(0, size);
    body.remove_prefix(size + 2);
  }
}

const std::string kGetStream = "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n";
const std::string kGetReady = "GET /ready HTTP/1.1\r\nHost: x\r\n\r\n";

TEST_F(Http1Component, StreamedBodyIsChunkedAndTheProducerRunsToTheEnd) {
  const WireRecord wire = serve({kGetStream});
  const std::size_t head_end = wire.output.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  EXPECT_NE(wire.output.find("Transfer-Encoding: chunked"), std::string::npos);
  bool complete = false;
  EXPECT_EQ(dechunk(std::string_view(wire.output).substr(head_end + 4), complete),
            pattern(ComponentStore::kSize));
  EXPECT_TRUE(complete);
  EXPECT_EQ(outcomes.finished, 1);
  EXPECT_EQ(outcomes.cancelled, 0);
}

// Every write of a streamed response failing in turn: the connection ends, the producer is
// cancelled (or had finished when the last write failed), and nothing is left running.
TEST_F(Http1Component, EveryFailedWriteCancelsTheProducer) {
  const int writes = serve({kGetStream}).writes;
  ASSERT_GT(writes, 3);  // StreamBufferSize 2k: several parts, each written on its own
  for (int n = 1; n <= writes; ++n) {
    outcomes = {};
    const WireRecord wire = serve({kGetStream}, Fault{.write_at = n});
    EXPECT_EQ(outcomes.finished + outcomes.cancelled, 1) << n;
    if (n < writes - 1) {
      EXPECT_EQ(outcomes.cancelled, 1) << "write " << n << " failed, yet the producer finished";
    }
    bool complete = false;
    const std::size_t head_end = wire.output.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      dechunk(std::string_view(wire.output).substr(head_end + 4), complete);
    }
    EXPECT_FALSE(complete) << "write " << n << " of " << writes
                           << " failed, yet the response is whole";
  }
}

TEST_F(Http1Component, EveryFailedReadEndsTheConnectionQuietly) {
  const std::string two = kGetReady + kGetStream;
  const int reads = serve({two}).reads;
  for (int n = 1; n <= reads; ++n) {
    outcomes = {};
    const WireRecord wire = serve({two}, Fault{.read_at = n});
    // Whatever was answered before the reset is whole; a producer never outlives the connection.
    EXPECT_EQ(outcomes.cancelled, 0) << n;
    if (n == 1) {
      EXPECT_EQ(wire.output, "");
    }
  }
}

TEST_F(Http1Component, ResetAfterTheRequestsStillAnswersThem) {
  const WireRecord wire = serve({kGetReady, kGetStream}, Fault{.end_with_reset = true});
  EXPECT_NE(wire.output.find(pattern(ComponentStore::kSize)), std::string::npos);
  EXPECT_EQ(outcomes.finished, 1);
}

// The same request split into two reads at every byte: the same answer every time.
TEST_F(Http1Component, RequestsSplitAtEveryByteGetTheSameAnswer) {
  const std::string whole = serve({kGetReady}).output;
  ASSERT_NE(whole.find("200 OK"), std::string::npos);
  const auto without_date = [](std::string text) {
    const std::size_t at = text.find("Date: ");
    return at == std::string::npos ? text : text.erase(at, text.find("\r\n", at) - at);
  };
  for (std::size_t k = 1; k < kGetReady.size(); ++k) {
    const WireRecord wire = serve({kGetReady.substr(0, k), kGetReady.substr(k)});
    EXPECT_EQ(without_date(wire.output), without_date(whole)) << "split at " << k;
  }
}

TEST_F(Http1Component, HeadDropsTheProducerUnrun) {
  const WireRecord wire = serve({"HEAD /stream HTTP/1.1\r\nHost: x\r\n\r\n"});
  EXPECT_NE(wire.output.find("200 OK"), std::string::npos);
  EXPECT_EQ(wire.output.find("abc"), std::string::npos);
  EXPECT_EQ(outcomes.cancelled, 1);
}

}  // namespace
}  // namespace collage::testing
