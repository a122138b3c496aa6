// nghttp2's callbacks: C entry points that forward to the Connection, and what each one does
// with frames, headers and data.

#include <unistd.h>

#include <cstring>

#include "http2_connection.h"
#include "http2_metrics.h"

namespace collage::http2 {
namespace {

constexpr std::size_t kOutputLimit = 64 * 1024;

Connection& self(void* user_data) {
  return *static_cast<Connection*>(user_data);
}

}  // namespace

nghttp2_session_callbacks* make_callbacks() {
  nghttp2_session_callbacks* cb = nullptr;
  nghttp2_session_callbacks_new(&cb);
  nghttp2_session_callbacks_set_send_callback(
      cb,
      [](nghttp2_session*, const std::uint8_t* data, std::size_t length, int,
         void* user_data) -> ssize_t { return self(user_data).on_send(data, length); });
  nghttp2_session_callbacks_set_send_data_callback(
      cb,
      [](nghttp2_session*, nghttp2_frame* frame, const std::uint8_t* head, std::size_t length,
         nghttp2_data_source*,
         void* user_data) -> int { return self(user_data).on_send_data(frame, head, length); });
  nghttp2_session_callbacks_set_on_begin_frame_callback(
      cb, [](nghttp2_session*, const nghttp2_frame_hd* header, void* user_data) -> int {
        return self(user_data).on_begin_frame(*header);
      });
  nghttp2_session_callbacks_set_on_begin_headers_callback(
      cb, [](nghttp2_session*, const nghttp2_frame* frame, void* user_data) -> int {
        return self(user_data).on_begin_headers(frame);
      });
  nghttp2_session_callbacks_set_on_header_callback(
      cb,
      [](nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
         std::size_t name_length, const std::uint8_t* value, std::size_t value_length, std::uint8_t,
         void* user_data) -> int {
        return self(user_data).on_header(
            frame, std::string_view(reinterpret_cast<const char*>(name), name_length),
            std::string_view(reinterpret_cast<const char*>(value), value_length));
      });
  nghttp2_session_callbacks_set_on_frame_recv_callback(
      cb, [](nghttp2_session*, const nghttp2_frame* frame, void* user_data) -> int {
        return self(user_data).on_frame_recv(frame);
      });
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
      cb,
      [](nghttp2_session*, std::uint8_t, std::int32_t stream_id, const std::uint8_t* data,
         std::size_t length, void* user_data) -> int {
        return self(user_data).on_data_chunk(stream_id, data, length);
      });
  nghttp2_session_callbacks_set_on_stream_close_callback(
      cb,
      [](nghttp2_session*, std::int32_t stream_id, std::uint32_t error_code, void* user_data)
          -> int { return self(user_data).on_stream_close(stream_id, error_code); });
  nghttp2_session_callbacks_set_on_frame_send_callback(
      cb, [](nghttp2_session*, const nghttp2_frame* frame, void* user_data) -> int {
        return self(user_data).on_frame_send(frame);
      });
  return cb;
}

ssize_t Connection::on_send(const std::uint8_t* data, std::size_t length) {
  if (out_.size() >= kOutputLimit) {
    return NGHTTP2_ERR_WOULDBLOCK;  // write what we have first
  }
  out_.append(reinterpret_cast<const char*>(data), length);
  return static_cast<ssize_t>(length);
}

int Connection::on_begin_frame(const nghttp2_frame_hd& header) {
  if (header.type != NGHTTP2_HEADERS || header.stream_id % 2 == 0) {
    return 0;  // even ids are nghttp2's to refuse
  }
  if (header.stream_id > highest_stream_) {
    highest_stream_ = header.stream_id;
    recent_streams_[recent_next_++ % recent_streams_.size()] = header.stream_id;
    return 0;
  }
  for (std::int32_t id : recent_streams_) {
    if (id == header.stream_id) {
      return 0;  // trailers, or frames in flight for a stream that has ended
    }
  }
  // RFC 9113 §5.1.1: a new stream's id must be greater than every id the client used before.
  // nghttp2 ignores such a header block once it has forgotten the higher stream.
  nghttp2_session_terminate_session(session_, NGHTTP2_PROTOCOL_ERROR);
  return 0;
}

int Connection::on_begin_headers(const nghttp2_frame* frame) {
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
    return 0;
  }
  std::shared_ptr<Stream> stream;
  if (!spare_streams_.empty()) {
    stream = std::move(spare_streams_.back());
    spare_streams_.pop_back();
    stream->recycle(frame->hd.stream_id);
  } else {
    stream = std::make_shared<Stream>(*this, frame->hd.stream_id, executor_);
  }
  streams_.emplace(frame->hd.stream_id, std::move(stream));
  count_stream();
  return 0;
}

int Connection::on_header(const nghttp2_frame* frame, std::string_view name,
                          std::string_view value) {
  if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) {
    return 0;  // trailers are accepted and dropped
  }
  auto it = streams_.find(frame->hd.stream_id);
  if (it == streams_.end()) {
    return 0;
  }
  Stream& s = *it->second;
  // RFC 9113 §6.5.2: the size of a header list counts 32 bytes per field. Past the limit nothing
  // more is kept (an HPACK bomb decodes to nothing), and the stream gets 431.
  s.header_bytes += name.size() + value.size() + 32;
  if (s.header_bytes > settings_.max_header_list_size) {
    return 0;
  }
  if (!name.empty() && name.front() == ':') {
    if (name == ":method") {
      s.method = value;
    } else if (name == ":path") {
      s.path = value;
    } else if (name == ":authority") {
      s.authority = value;
    } else if (name == ":scheme") {
      s.scheme = value;
    }
    return 0;
  }
  s.fields.emplace_back(name, value);
  return 0;
}

int Connection::on_frame_recv(const nghttp2_frame* frame) {
  if (frame->hd.type == NGHTTP2_RST_STREAM) {
    count_reset(true);
  }
  const std::int32_t id = frame->hd.stream_id;
  auto it = streams_.find(id);
  const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
  switch (frame->hd.type) {
    case NGHTTP2_HEADERS:
      if (it == streams_.end()) {
        return 0;
      }
      if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
        it->second->head_complete = true;
        it->second->body_complete = end_stream;
        heads_read_.push_back(id);  // started after the rest of this input (receive())
      } else if (end_stream) {
        it->second->body_complete = true;  // trailers end the body
        it->second->body_ready.cancel();
      }
      return 0;
    case NGHTTP2_DATA:
      if (frame->hd.length == 0 && !end_stream &&
          ++empty_data_frames_ > settings_.max_empty_frames) {
        // CVE-2019-9518: a flood of empty frames costs us work and the peer nothing.
        nghttp2_session_terminate_session(session_, NGHTTP2_ENHANCE_YOUR_CALM);
        fail("too many empty DATA frames");
        return 0;
      }
      if (it != streams_.end() && end_stream) {
        it->second->body_complete = true;
        it->second->body_ready.cancel();
      }
      return 0;
    case NGHTTP2_WINDOW_UPDATE:
    case NGHTTP2_SETTINGS:
      // A window opened (one stream's, the connection's, or every stream's initial size):
      // streams waiting for it to read their next part look again.
      for (auto& [stream_id, stream] : streams_) {
        if (stream->awaiting_window && (id == 0 || id == stream_id)) {
          stream->part_sent.cancel();
        }
      }
      return 0;
    default: return 0;
  }
}

int Connection::on_data_chunk(std::int32_t stream_id, const std::uint8_t* data,
                              std::size_t length) {
  auto it = streams_.find(stream_id);
  if (it == streams_.end() || it->second->closed) {
    nghttp2_session_consume_connection(session_, length);
    return 0;
  }
  Stream& s = *it->second;
  if (s.handler_done) {
    // Nobody will read it: drop it and give the window back (see Stream::handler_done).
    s.body_discarded += length;
    nghttp2_session_consume_connection(session_, length);
    finish_unread_body(s);
    return 0;
  }
  // What waits here is bounded by the stream's window: it only reopens as the store reads.
  s.body_chunks.emplace_back(reinterpret_cast<const char*>(data), length);
  s.body_ready.cancel();
  return 0;
}

int Connection::on_stream_close(std::int32_t stream_id, std::uint32_t /*error_code*/) {
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) {
    return 0;
  }
  Stream& s = *it->second;
  s.closed = true;
  s.part_sent.cancel();
  if (const std::size_t unread = s.drop_unread(); unread > 0) {
    nghttp2_session_consume_connection(session_, unread);  // keep the connection window open
  }
  s.body_ready.cancel();
  // Kept for the next stream when nothing else holds it (its handler has finished).
  if (it->second.use_count() == 1 && spare_streams_.size() < kSpareStreams) {
    it->second->entity.reset();  // let go of its file now, not when it is reused
    spare_streams_.push_back(std::move(it->second));
  }
  streams_.erase(it);
  update_deadline();
  return 0;
}

int Connection::on_frame_send(const nghttp2_frame* frame) {
  if (frame->hd.type == NGHTTP2_RST_STREAM) {
    count_reset(false);
    return 0;
  }
  if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) == 0 ||
      (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)) {
    return 0;
  }
  auto it = streams_.find(frame->hd.stream_id);
  if (it != streams_.end()) {
    it->second->end_stream_sent = true;
    finish_unread_body(*it->second);
  }
  return 0;
}

ssize_t Connection::on_read_data(std::int32_t stream_id, std::size_t length, std::uint32_t* flags) {
  auto it = streams_.find(stream_id);
  if (it == streams_.end()) {
    return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
  }
  Stream& s = *it->second;
  const auto& buckets = s.entity.body.buckets();
  std::uint64_t remaining = 0;
  for (std::size_t i = s.bucket_index; i < buckets.size(); ++i) {
    remaining += buckets[i].size() - (i == s.bucket_index ? s.bucket_offset : 0);
  }
  if (remaining == 0 && !s.source_ended) {
    s.deferred = true;  // the handler resumes the data once it has pulled the next part
    s.part_sent.cancel();
    return NGHTTP2_ERR_DEFERRED;
  }
  const std::size_t take = static_cast<std::size_t>(std::min<std::uint64_t>(length, remaining));
  *flags |= NGHTTP2_DATA_FLAG_NO_COPY;  // on_send_data copies straight into the output
  if (take == remaining && s.source_ended) {
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    s.response_done = true;
  }
  return static_cast<ssize_t>(take);
}

int Connection::on_send_data(nghttp2_frame* frame, const std::uint8_t* frame_head,
                             std::size_t length) {
  auto it = streams_.find(frame->hd.stream_id);
  if (it == streams_.end()) {
    return NGHTTP2_ERR_CALLBACK_FAILURE;
  }
  if (out_.size() >= kOutputLimit) {
    return NGHTTP2_ERR_WOULDBLOCK;
  }
  Stream& s = *it->second;
  out_.append(reinterpret_cast<const char*>(frame_head), 9);
  const auto& buckets = s.entity.body.buckets();
  while (length > 0 && s.bucket_index < buckets.size()) {
    const Bucket& b = buckets[s.bucket_index];
    const std::size_t take =
        static_cast<std::size_t>(std::min<std::uint64_t>(length, b.size() - s.bucket_offset));
    if (b.kind == Bucket::Kind::memory) {
      out_.append(b.bytes.substr(s.bucket_offset, take));
    } else {
      const std::size_t at = out_.size();
      out_.resize(at + take);
      std::size_t done = 0;
      while (done < take) {
        const ssize_t n = ::pread(b.file->fd(), out_.data() + at + done, take - done,
                                  static_cast<off_t>(b.offset + s.bucket_offset + done));
        if (n <= 0) {
          return NGHTTP2_ERR_CALLBACK_FAILURE;  // the file shrank: the stream cannot finish
        }
        done += static_cast<std::size_t>(n);
      }
    }
    s.bucket_offset += take;
    length -= take;
    if (s.bucket_offset == b.size()) {
      ++s.bucket_index;
      s.bucket_offset = 0;
    }
  }
  if (s.bucket_index == buckets.size() && !s.source_ended) {
    s.part_sent.cancel();  // this part is out: the handler may pull the next
  }
  return 0;
}

}  // namespace collage::http2
