#include "proxy_body.h"

#include "collage/log.h"

namespace collage::proxy {

ProxyBody::ProxyBody(std::unique_ptr<gateway::UpstreamSocket> socket,
                     std::unique_ptr<InFlight> in_flight, std::string buffered, BodyKind kind,
                     std::uint64_t length, bool keep_alive, std::string upstream)
    : socket_(std::move(socket)),
      in_flight_(std::move(in_flight)),
      buffer_(std::move(buffered)),
      kind_(kind),
      left_(length),
      keep_alive_(keep_alive),
      upstream_(std::move(upstream)) {}

StreamStatus ProxyBody::finish(bool clean) {
  if (clean && keep_alive_ && buffer_.empty()) {
    socket_->release_to_pool();
  } else {
    socket_->close();
  }
  in_flight_.reset();
  return clean ? StreamStatus::end : StreamStatus::failed;
}

Task<StreamStatus> ProxyBody::next(Brigade& out, std::size_t limit) {
  constexpr std::size_t kRead = 64 * 1024;
  for (;;) {
    if (kind_ == BodyKind::length) {
      if (left_ == 0) {
        co_return finish(true);
      }
      if (!buffer_.empty()) {
        const std::size_t n =
            static_cast<std::size_t>(std::min<std::uint64_t>({left_, buffer_.size(), limit}));
        out.append_owned(buffer_.substr(0, n));
        buffer_.erase(0, n);
        left_ -= n;
        if (left_ == 0) {
          co_return finish(true);
        }
        co_return StreamStatus::more;
      }
    } else if (kind_ == BodyKind::chunked) {
      const ChunkedDecoder::Step step = chunks_.step(buffer_);
      if (step.status == ChunkedDecoder::Status::error) {
        COLLAGE_LOG(LogLevel::error, "COL-PROXY-0004",
                    "upstream {} sent a malformed chunked body; the response is cut short",
                    upstream_);
        co_return finish(false);
      }
      if (step.status == ChunkedDecoder::Status::data) {
        // At most `limit` bytes now; the decoder gives the rest back next time.
        const std::size_t take = std::min(step.data.size(), limit);
        out.append_owned(std::string(step.data.substr(0, take)));
        const std::size_t untaken = step.data.size() - take;
        if (untaken > 0) {
          chunks_.give_back(untaken);
        }
        buffer_.erase(0, step.consumed - untaken);
        co_return StreamStatus::more;
      }
      buffer_.erase(0, step.consumed);
      if (step.status == ChunkedDecoder::Status::done) {
        co_return finish(true);
      }
    } else if (!buffer_.empty()) {  // until the server closes
      const std::size_t n = std::min(buffer_.size(), limit);
      out.append_owned(buffer_.substr(0, n));
      buffer_.erase(0, n);
      co_return StreamStatus::more;
    }
    std::size_t want = std::min<std::size_t>(kRead, limit);
    if (kind_ == BodyKind::length) {
      want = static_cast<std::size_t>(std::min<std::uint64_t>(want, left_));
    }
    const gateway::UpstreamRead read = co_await socket_->read_more(buffer_, want);
    if (read == gateway::UpstreamRead::data) {
      continue;
    }
    if (read == gateway::UpstreamRead::closed && kind_ == BodyKind::until_close) {
      keep_alive_ = false;
      co_return finish(true);
    }
    COLLAGE_LOG(LogLevel::error, "COL-PROXY-0004", "upstream {} {} in the middle of a body",
                upstream_,
                read == gateway::UpstreamRead::timed_out ? "timed out (ProxyReadTimeout)"
                                                         : "closed the connection");
    co_return finish(false);
  }
}

}  // namespace collage::proxy
