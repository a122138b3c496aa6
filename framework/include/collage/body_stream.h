#pragma once
// A response body that arrives over time (a CGI's output, a proxied upstream, a filter's output):
// the front end pulls one part at a time and writes it before asking for the next, so a slow
// client slows the producer and memory per response stays bounded whatever the body's size.

#include <cstdint>
#include <memory>

#include "collage/asio.h"
#include "collage/brigade.h"

namespace collage {

enum class StreamStatus : std::uint8_t {
  more,    // a part was appended; ask again
  end,     // the body is complete (the last part, possibly empty, was appended)
  failed,  // the body cannot be completed; what was sent is all there is (logged by the producer)
};

// Owned by the entity. Destroying a stream that has not ended cancels its producer (a client that
// went away): no callback, no further work.
class BodyStream {
 public:
  virtual ~BodyStream() = default;
  // Appends the next part, at most `limit` bytes, to `out`; suspends until some bytes, the end or
  // a failure are there. A `more` part is never empty. Buckets own (or share) what they point at,
  // so they stay valid after later calls. Called on the connection's executor, one call at a time.
  virtual Task<StreamStatus> next(Brigade& out, std::size_t limit) = 0;
};

// A ready brigade handed out in parts of at most `limit` bytes, so a large ready body (a file)
// can pass through a streaming filter in bounded memory. File parts stay file buckets.
class BrigadeStream final : public BodyStream {
 public:
  explicit BrigadeStream(Brigade body) : body_(std::move(body)), size_(body_.size()) {}
  Task<StreamStatus> next(Brigade& out, std::size_t limit) override;

 private:
  Brigade body_;
  std::uint64_t size_;
  std::uint64_t offset_ = 0;
};

// Skips the first `count` bytes of another stream (a resumed read of a streamed entity).
class SkipStream final : public BodyStream {
 public:
  SkipStream(std::unique_ptr<BodyStream> inner, std::uint64_t count)
      : inner_(std::move(inner)), skip_(count) {}
  Task<StreamStatus> next(Brigade& out, std::size_t limit) override;

 private:
  std::unique_ptr<BodyStream> inner_;
  std::uint64_t skip_;
  Brigade part_;
};

}  // namespace collage
