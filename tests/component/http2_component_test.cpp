// The HTTP/2 front end and the pipeline through a scripted transport: the client's frames are
// made by an nghttp2 client session up front, the server's reply is parsed back by it. Every
// write of a streamed response failing in turn must end the connection and cancel the producer.

#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

#include <chrono>
#include <deque>
#include <memory>
#include <string>

#include "collage/config.h"
#include "collage/generation.h"
#include "collage/middle_end.h"
#include "collage/registry.h"
#include "scripted_transport.h"

namespace collage::http2 {
void register_module(Registry& registry);
}

namespace collage::testing {
namespace {

int cancelled = 0;
int finished = 0;

// 5000 bytes "abc…", 1000 per part, counting whether it ran to its end.
class PartStream final : public BodyStream {
 public:
  ~PartStream() override { (made_ == kSize ? finished : cancelled) += 1; }
  Task<StreamStatus> next(Brigade& out, std::size_t) override {
    std::string part(1000, '\0');
    for (std::size_t i = 0; i < part.size(); ++i) {
      part[i] = static_cast<char>('a' + (made_ + i) % 26);
    }
    made_ += part.size();
    out.append_owned(std::move(part));
    co_return made_ == kSize ? StreamStatus::end : StreamStatus::more;
  }
  static constexpr std::size_t kSize = 5000;

 private:
  std::size_t made_ = 0;
};

struct StoreConfig {
  std::string unused;
};
const Directive kStoreDirectives[] = {
    {.name = "H2ComponentUnused", .field = bind<&StoreConfig::unused>()},
};

class PartStore final : public Store {
 public:
  MethodSet methods() const override { return MethodSet{Method::get}; }
  Task<void> handle(RequestContext&, Entity& out) const override {
    out.status = 200;
    out.content_type = "text/plain";
    out.stream = std::make_unique<PartStream>();
    co_return;
  }
};

// A client session that makes the request bytes and reads the reply.
class Client {
 public:
  Client() {
    nghttp2_session_callbacks* callbacks = nullptr;
    nghttp2_session_callbacks_new(&callbacks);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
        callbacks, [](nghttp2_session*, std::uint8_t, std::int32_t, const std::uint8_t* data,
                      std::size_t length, void* self) {
          static_cast<Client*>(self)->body.append(reinterpret_cast<const char*>(data), length);
          return 0;
        });
    nghttp2_session_callbacks_set_on_stream_close_callback(
        callbacks, [](nghttp2_session*, std::int32_t, std::uint32_t error, void* self) {
          static_cast<Client*>(self)->closed = true;
          static_cast<Client*>(self)->error = error;
          return 0;
        });
    nghttp2_session_client_new(&session_, callbacks, this);
    nghttp2_session_callbacks_del(callbacks);
  }
  ~Client() { nghttp2_session_del(session_); }

  std::string request_bytes() {
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, nullptr, 0);
    const nghttp2_nv headers[] = {make(":method", "GET"), make(":scheme", "http"),
                                  make(":authority", "x"), make(":path", "/stream")};
    nghttp2_submit_request(session_, nullptr, headers, std::size(headers), nullptr, nullptr);
    std::string out = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
    const std::uint8_t* data = nullptr;
    for (ssize_t n; (n = nghttp2_session_mem_send(session_, &data)) > 0;) {
      out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
    }
    // The client preface is written by hand above: skip nghttp2's copy of it.
    return out.substr(0, 24) + out.substr(48);
  }
  void read(const std::string& server_bytes) {
    nghttp2_session_mem_recv(session_, reinterpret_cast<const std::uint8_t*>(server_bytes.data()),
                             server_bytes.size());
  }

  std::string body;
  bool closed = false;
  std::uint32_t error = 0;

 private:
  static nghttp2_nv make(const char* name, const char* value) {
    return {reinterpret_cast<std::uint8_t*>(const_cast<char*>(name)),
            reinterpret_cast<std::uint8_t*>(const_cast<char*>(value)), std::strlen(name),
            std::strlen(value), NGHTTP2_NV_FLAG_NONE};
  }
  nghttp2_session* session_ = nullptr;
};

class Http2Component : public ::testing::Test {
 protected:
  Http2Component() {
    http2::register_module(registry);
    registry.add_module({"h2component", ModuleKind::store, "test store"}, kStoreDirectives);
    registry.add_store("parts", [](const Scope&, ConfigErrors&) -> std::unique_ptr<Store> {
      return std::make_unique<PartStore>();
    });
    registry.add_mpm("event", [](const Scope&, ConfigErrors&) { return nullptr; });
    LoadOptions options;
    options.use_environment = false;
    auto config = load_config_text(
        "<Collage><Mpm>event</Mpm><Listen protocol=\"h2\" port=\"0\"/><Store>parts</Store>"
        "</Collage>",
        "h2.xml", registry.directives(), options, errors);
    EXPECT_TRUE(config);
    generation = Generation::build(std::move(config), registry, errors);
    EXPECT_TRUE(generation) << (errors.empty() ? "" : errors.messages().front());
    cancelled = finished = 0;
  }

  WireRecord serve(const std::string& input, int fail_write_at = 0) {
    Fault fault;
    fault.write_at = fail_write_at;
    // The client stays until its stream has ended (or a write failed): then it goes away.
    fault.end_when = [](const std::string& output) {
      Client observer;
      observer.request_bytes();  // the same stream id the real client used
      observer.read(output);
      return observer.closed;
    };
    WireRecord wire = serve_scripted(generation, "h2", {input}, fault);
    EXPECT_TRUE(wire.ended) << "the connection did not end";
    return wire;
  }

  Registry registry;
  ConfigErrors errors;
  std::shared_ptr<const Generation> generation;
};

TEST_F(Http2Component, AStreamedBodyArrivesWhole) {
  Client client;
  const WireRecord wire = serve(client.request_bytes());
  client.read(wire.output);
  EXPECT_TRUE(client.closed);
  EXPECT_EQ(client.error, 0u);
  EXPECT_EQ(client.body, pattern(PartStream::kSize));
  EXPECT_EQ(finished, 1);
  EXPECT_EQ(cancelled, 0);
}

TEST_F(Http2Component, EveryFailedWriteCancelsTheProducer) {
  Client probe;
  const int writes = serve(probe.request_bytes()).writes;
  ASSERT_GT(writes, 2);
  for (int n = 1; n <= writes; ++n) {
    cancelled = finished = 0;
    Client client;
    const WireRecord wire = serve(client.request_bytes(), n);
    client.read(wire.output);
    EXPECT_EQ(cancelled + finished, 1) << n;
    EXPECT_NE(client.body, pattern(PartStream::kSize) + "") << "write " << n << " failed";
    if (client.body.size() == PartStream::kSize) {
      ADD_FAILURE() << "write " << n << " failed, yet the whole body arrived";
    }
  }
}

}  // namespace
}  // namespace collage::testing
