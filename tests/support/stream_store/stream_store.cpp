// A store for tests only: a body made part by part over time, of any size, so every front end's
// streaming (backpressure, bounded memory, cancellation) is tested through the real server. The
// query (or, for FTP and Gopher, which have none, the path's last segment) says what to make:
//   size=N      body bytes (default 1 MiB); byte i is 'a' + i % 26, so a client can check offsets
//   part=N      bytes per part (at most StreamBufferSize, default 16 KiB)
//   known=1     declare Content-Length up front (default: unknown length, so chunked in HTTP/1.1)
//   promise=N   declare this length instead (a producer that breaks its promise)
//   delay_ms=N  wait this long before each part (a slow producer)
//   fail_at=N   fail the stream once N bytes are out (a producer that breaks off)
//   type=menu   a Gopher menu of size bytes instead (for the gopher-html filter)
//   type=text   text/plain, a media type the store makes at run time
// Each stream appends one line to TestStreamReport when it goes away: "done|failed|cancelled <bytes
// produced> <path>", so tests see that a client that left cancelled the producer.

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <cstdlib>
#include <string>

#include "collage/menu.h"
#include "collage/middle_end.h"
#include "collage/module_abi.h"
#include "collage/registry.h"
#include "collage/store.h"

namespace collage::test_stream {
namespace {

struct Written {
  std::string report;
};

const Directive kDirectives[] = {
    {.name = "TestStreamReport",
     .type = ArgType::path,
     .contexts = kAnyContext,
     .help = "File each test stream appends its outcome to (tests only).",
     .field = bind<&Written::report>()},
};

std::uint64_t query_number(std::string_view query, std::string_view key, std::uint64_t fallback) {
  std::string_view rest = query;
  while (!rest.empty()) {
    const std::size_t amp = rest.find('&');
    const std::string_view pair = rest.substr(0, amp);
    if (pair.size() > key.size() && pair.starts_with(key) && pair[key.size()] == '=') {
      const std::string_view digits = pair.substr(key.size() + 1);
      std::uint64_t value = 0;
      const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
      if (ec == std::errc() && end == digits.data() + digits.size()) {
        return value;
      }
    }
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
  }
  return fallback;
}

class PatternStream final : public BodyStream {
 public:
  PatternStream(const asio::any_io_executor& executor, std::string report, std::string path,
                std::uint64_t size, std::uint64_t part, std::uint64_t fail_at,
                std::chrono::milliseconds delay, bool menu)
      : timer_(executor),
        report_(std::move(report)),
        path_(std::move(path)),
        size_(size),
        part_(part),
        fail_at_(fail_at),
        delay_(delay),
        menu_(menu) {}

  ~PatternStream() override {
    if (report_.empty()) {
      return;
    }
    const std::string line =
        std::string(outcome_) + " " + std::to_string(produced_) + " " + path_ + "\n";
    const int fd = ::open(report_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) {
      (void)!::write(fd, line.data(), line.size());
      ::close(fd);
    }
  }

  Task<StreamStatus> next(Brigade& out, std::size_t limit) override {
    if (delay_.count() > 0) {
      timer_.expires_after(delay_);
      co_await timer_.async_wait(kAsTuple);
    }
    if (produced_ >= fail_at_) {
      outcome_ = "failed";
      co_return StreamStatus::failed;
    }
    std::uint64_t take = std::min<std::uint64_t>({part_, limit, size_ - produced_});
    take = std::min(take, fail_at_ - produced_);
    std::string text;
    if (menu_) {
      text = "iline " + std::to_string(produced_) + "\tfake\t(NULL)\t0\r\n";
      text.resize(std::min<std::size_t>(text.size(), static_cast<std::size_t>(size_ - produced_)),
                  'x');
    } else {
      text.resize(static_cast<std::size_t>(take));
      for (std::size_t i = 0; i < text.size(); ++i) {
        text[i] = static_cast<char>('a' + (produced_ + i) % 26);
      }
    }
    produced_ += text.size();
    out.append_owned(std::move(text));
    if (produced_ >= size_) {
      outcome_ = "done";
      co_return StreamStatus::end;
    }
    co_return StreamStatus::more;
  }

 private:
  asio::steady_timer timer_;
  std::string report_;
  std::string path_;
  std::uint64_t size_;
  std::uint64_t part_;
  std::uint64_t fail_at_;
  std::chrono::milliseconds delay_;
  bool menu_;
  std::uint64_t produced_ = 0;
  const char* outcome_ = "cancelled";
};

class StreamStore final : public Store {
 public:
  explicit StreamStore(std::string report) : report_(std::move(report)) {}
  MethodSet methods() const override { return MethodSet{Method::get, Method::head}; }

  Task<void> handle(RequestContext& ctx, Entity& out) const override {
    const std::string_view path = ctx.request.path;
    const std::string_view query =
        ctx.request.query.empty() ? path.substr(path.rfind('/') + 1) : ctx.request.query;
    const std::uint64_t size = query_number(query, "size", 1024 * 1024);
    const bool menu = query.find("type=menu") != std::string_view::npos;
    out.status = 200;
    out.content_type = menu ? kMenuContentType : "application/octet-stream";
    if (query.find("type=text") != std::string_view::npos) {
      // A media type made at run time, as a CGI's would be: owned by the entity.
      out.set_content_type(std::string("text/plain; charset=") + "utf-8");
    }
    if (query_number(query, "known", 0) == 1) {
      out.length = size;
    }
    if (const std::uint64_t promise = query_number(query, "promise", 0); promise > 0) {
      out.length = promise;
    }
    out.stream = std::make_unique<PatternStream>(
        co_await asio::this_coro::executor, report_, ctx.request.path, size,
        std::max<std::uint64_t>(1, query_number(query, "part", 16 * 1024)),
        query_number(query, "fail_at", UINT64_MAX),
        std::chrono::milliseconds(query_number(query, "delay_ms", 0)), menu);
  }

 private:
  std::string report_;
};

void register_module(Registry& registry) {
  registry.add_module({"teststream", ModuleKind::store, "streamed test bodies (tests only)"},
                      kDirectives);
  registry.add_store("teststream", [](const Scope& scope, ConfigErrors&) -> std::unique_ptr<Store> {
    return std::make_unique<StreamStore>(scope.read<Written>(kDirectives).report);
  });
}

}  // namespace
}  // namespace collage::test_stream

COLLAGE_DECLARE_MODULE("teststream", collage::test_stream::register_module);
