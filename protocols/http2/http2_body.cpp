#include <cstring>

#include "http2_connection.h"
#include "http2_stream.h"

namespace collage::http2 {

std::optional<std::uint64_t> StreamBody::declared_length() const {
  return stream_.content_length;
}

Task<BodyRead> StreamBody::read(std::span<char> into) {
  Stream& s = stream_;
  for (;;) {
    if (s.body_too_large) {
      co_return BodyRead{0, BodyError::too_large};
    }
    if (!s.body_chunks.empty()) {
      std::string& front = s.body_chunks.front();
      const std::size_t take = std::min(into.size(), front.size());
      s.body_received += take;
      if (s.body_received > s.body_limit) {
        s.body_too_large = true;
        continue;
      }
      std::memcpy(into.data(), front.data(), take);
      front.erase(0, take);
      if (front.empty()) {
        s.body_chunks.pop_front();
      }
      if (!s.closed) {
        // Only now does the client get window to send more.
        nghttp2_session_consume(s.connection.session(), s.id, take);
        s.connection.wake_writer();
      }
      co_return BodyRead{take, BodyError::none};
    }
    if (s.body_complete) {
      co_return BodyRead{};
    }
    if (s.closed) {
      co_return BodyRead{0, BodyError::closed};
    }
    s.body_ready.expires_after(s.connection.settings().body_timeout);
    auto [ec] = co_await s.body_ready.async_wait(kAsTuple);
    if (!ec) {
      co_return BodyRead{0, BodyError::timeout};
    }
  }
}

}  // namespace collage::http2
