#pragma once
// One HTTP/2 stream: the request being received, the body a store reads, the entity being sent.

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "collage/asio.h"
#include "collage/entity.h"
#include "collage/request.h"

namespace collage::http2 {

class Connection;
struct Stream;

// The request body of a stream, as the store reads it. DATA arrives through the connection;
// the window is only opened (nghttp2_session_consume) as the store takes the bytes.
class StreamBody final : public BodySource {
 public:
  explicit StreamBody(Stream& stream) : stream_(stream) {}
  Task<BodyRead> read(std::span<char> into) override;
  std::optional<std::uint64_t> declared_length() const override;

 private:
  Stream& stream_;
};

struct Stream {
  Stream(Connection& c, std::int32_t stream_id, const asio::any_io_executor& executor)
      : connection(c), id(stream_id), body_ready(executor), body(*this), part_sent(executor) {
    body_ready.expires_at(asio::steady_timer::time_point::max());
    part_sent.expires_at(asio::steady_timer::time_point::max());
  }

  // Makes a finished stream ready to carry stream new_id, keeping the capacity of its strings
  // and vectors so a busy connection stops allocating per stream.
  void recycle(std::int32_t new_id) {
    id = new_id;
    method.clear();
    path.clear();
    authority.clear();
    scheme.clear();
    fields.clear();
    header_bytes = 0;
    request.reset();
    normalized_host.clear();
    head_complete = dispatched = false;
    body_chunks.clear();
    body_received = body_limit = 0;
    content_length.reset();
    body_complete = body_too_large = false;
    body_ready.expires_at(asio::steady_timer::time_point::max());
    entity.reset();
    bucket_index = 0;
    bucket_offset = 0;
    part_sent.expires_at(asio::steady_timer::time_point::max());
    source_ended = true;
    deferred = false;
    response_submitted = response_done = closed = false;
    handler_done = end_stream_sent = reset_sent = false;
    body_discarded = 0;
    body_bytes_sent = 0;
  }

  Connection& connection;
  std::int32_t id;

  // Request head, owned here; Request's views point into these strings.
  std::string method;
  std::string path;
  std::string authority;
  std::string scheme;
  std::vector<std::pair<std::string, std::string>> fields;
  std::size_t header_bytes = 0;
  Request request;
  std::string normalized_host;
  bool head_complete = false;
  bool dispatched = false;

  // Request body, as DATA frames brought it.
  std::deque<std::string> body_chunks;
  std::uint64_t body_received = 0;  // taken by the store so far
  std::uint64_t body_limit = 0;
  std::optional<std::uint64_t> content_length;
  bool body_complete = false;
  bool body_too_large = false;
  asio::steady_timer body_ready;  // cancelled to wake a store waiting for body data
  StreamBody body;

  // Drops the body bytes received but not read; returns how many, for the window to give back.
  std::size_t drop_unread() {
    std::size_t unread = 0;
    for (const std::string& chunk : body_chunks) {
      unread += chunk.size();
    }
    body_chunks.clear();
    return unread;
  }

  // Response. entity.body holds the part being sent; a streamed body's next part is pulled by the
  // handler once on_send_data has taken all of this one (part_sent wakes it).
  Entity entity;
  PeerInfo real_peer;  // the client behind a trusted proxy (RealIpFrom), when there is one
  std::size_t bucket_index = 0;     // where the next DATA frame continues
  std::uint64_t bucket_offset = 0;  // within that bucket
  asio::steady_timer part_sent;
  bool source_ended = true;  // no more parts will come (no stream, or it ended)
  bool deferred = false;     // nghttp2 waits for the next part (NGHTTP2_ERR_DEFERRED)
  // Waiting for the client's flow-control window to open before anything is read for it.
  bool awaiting_window = false;
  bool response_submitted = false;
  bool response_done = false;         // the last DATA frame has been produced
  bool end_stream_sent = false;       // the response's last frame has gone out
  std::uint64_t body_bytes_sent = 0;  // what the response's DATA frames carry (for the log)

  // Once the handler has finished, request body bytes it did not read are dropped (the
  // connection's window given back, not the stream's); when the stream's window is spent, past
  // body_limit, or for a 413, the stream is reset with NO_ERROR after the response (§8.1).
  bool handler_done = false;
  bool reset_sent = false;
  std::uint64_t body_discarded = 0;

  bool closed = false;  // nghttp2 closed the stream (reset, or done)
};

}  // namespace collage::http2
