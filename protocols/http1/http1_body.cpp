#include "http1_body.h"

#include <cstring>

#include "http1_connection.h"

namespace collage::http1 {

void Body::start(const RequestHead& head, std::uint64_t limit) {
  declared_ = head.content_length;
  chunked_ = head.chunked;
  remaining_ = head.content_length.value_or(0);
  received_ = 0;
  limit_ = limit;
  continue_pending_ = head.expect_continue;
  complete_ = !chunked_ && remaining_ == 0;
  error_ = BodyError::none;
  decoder_ = ChunkedDecoder();
}

Task<BodyRead> Body::read(std::span<char> into) {
  if (error_ != BodyError::none) {
    co_return BodyRead{0, error_};
  }
  if (complete_ || into.empty()) {
    co_return BodyRead{};
  }
  Connection& c = *connection_;
  if (continue_pending_) {
    continue_pending_ = false;
    // Only worth sending if the client is still waiting, i.e. has not started sending.
    if (c.start_ == c.end_ &&
        !co_await c.send_bytes("HTTP/1.1 100 Continue\r\n\r\n", /*more=*/false)) {
      co_return fail(BodyError::closed);
    }
  }
  c.phase_ = Connection::Phase::reading_body;
  if (chunked_) {
    co_return co_await read_chunked(into);
  }
  const std::size_t want =
      static_cast<std::size_t>(std::min<std::uint64_t>(into.size(), remaining_));
  std::size_t got = 0;
  if (c.start_ < c.end_) {
    got = std::min(want, c.end_ - c.start_);
    std::memcpy(into.data(), c.input_.get() + c.start_, got);
    c.start_ += got;
  } else {
    // Large bodies go straight into the store's buffer, not through the connection's.
    c.watchdog_.set_deadline(Connection::Clock::now() + c.settings_.body_timeout);
    auto [ec, n] = co_await c.transport_->read_some(asio::buffer(into.data(), want));
    if (ec || n == 0) {
      co_return fail(c.timed_out_ ? BodyError::timeout : BodyError::closed);
    }
    got = n;
  }
  c.phase_ = Connection::Phase::processing;
  remaining_ -= got;
  complete_ = remaining_ == 0;
  co_return BodyRead{got, BodyError::none};
}

Task<Body::Discard> Body::discard(std::uint64_t limit) {
  if (continue_pending_) {
    co_return Discard::cut_off;
  }
  char sink[16 * 1024];
  std::uint64_t dropped = 0;
  while (!complete_ && dropped <= limit) {
    const BodyRead got = co_await read(std::span<char>(sink, sizeof sink));
    if (got.error == BodyError::malformed) {
      co_return Discard::malformed;
    }
    if (got.error != BodyError::none) {
      co_return Discard::cut_off;
    }
    dropped += got.bytes;
  }
  co_return complete_ ? Discard::done : Discard::cut_off;
}

Task<BodyRead> Body::read_chunked(std::span<char> into) {
  Connection& c = *connection_;
  for (;;) {
    if (c.start_ < c.end_) {
      const ChunkedDecoder::Step step = decoder_.step(c.buffered());
      c.start_ += step.consumed;
      c.phase_ = Connection::Phase::processing;
      switch (step.status) {
        case ChunkedDecoder::Status::data: {
          const std::size_t take = std::min(step.data.size(), into.size());
          std::memcpy(into.data(), step.data.data(), take);
          if (take < step.data.size()) {
            const std::size_t rest = step.data.size() - take;
            decoder_.give_back(rest);
            c.start_ -= rest;
          }
          received_ += take;
          if (received_ > limit_) {
            co_return fail(BodyError::too_large);
          }
          co_return BodyRead{take, BodyError::none};
        }
        case ChunkedDecoder::Status::done: complete_ = true; co_return BodyRead{};
        case ChunkedDecoder::Status::error: co_return fail(BodyError::malformed);
        case ChunkedDecoder::Status::need_more: break;
      }
    }
    c.phase_ = Connection::Phase::reading_body;
    c.watchdog_.set_deadline(Connection::Clock::now() + c.settings_.body_timeout);
    if (!co_await c.fill()) {
      co_return fail(c.timed_out_ ? BodyError::timeout : BodyError::closed);
    }
  }
}

}  // namespace collage::http1
