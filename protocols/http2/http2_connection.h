#pragma once
// One HTTP/2 connection (RFC 9113) on nghttp2's server session: a reader feeding received bytes
// to nghttp2, a writer sending what nghttp2 produces, a coroutine per request stream, and a
// watchdog for idle and stalled connections.

#include <nghttp2/nghttp2.h>
#include <array>
#include <vector>

#include <map>
#include <memory>
#include <string>

#include "collage/asio.h"
#include "collage/protocol.h"
#include "collage/services.h"
#include "collage/transport.h"
#include "collage/watchdog.h"
#include "http2_settings.h"
#include "http2_stream.h"

namespace collage::http2 {

class Connection final : public TrackedConnection {
 public:
  Connection(std::unique_ptr<Transport> transport, ConnectionContext context,
             const Settings& settings);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Serves until the connection closes. `handover` carries bytes HTTP/1.1 already read and, for
  // "Upgrade: h2c", the request to answer on stream 1; it must outlive the call.
  Task<void> run(const Handover& handover);
  void drain() override;

  nghttp2_session* session() { return session_; }
  // Wakes the writer: nghttp2 may have frames to send.
  void wake_writer();
  const Settings& settings() const { return settings_; }
  const asio::any_io_executor& executor() const { return executor_; }

  // nghttp2 callbacks (see http2_callbacks.cpp).
  int on_begin_frame(const nghttp2_frame_hd& header);
  int on_begin_headers(const nghttp2_frame* frame);
  int on_header(const nghttp2_frame* frame, std::string_view name, std::string_view value);
  int on_frame_recv(const nghttp2_frame* frame);
  int on_data_chunk(std::int32_t stream_id, const std::uint8_t* data, std::size_t length);
  int on_stream_close(std::int32_t stream_id, std::uint32_t error_code);
  ssize_t on_send(const std::uint8_t* data, std::size_t length);
  ssize_t on_read_data(std::int32_t stream_id, std::size_t length, std::uint32_t* flags);
  int on_send_data(nghttp2_frame* frame, const std::uint8_t* frame_head, std::size_t length);
  int on_frame_send(const nghttp2_frame* frame);

 private:
  Task<void> reader();
  Task<void> writer();
  Task<void> handle_stream(std::shared_ptr<Stream> stream);
  void dispatch(const std::shared_ptr<Stream>& stream);
  // Feeds bytes to nghttp2, then starts the handlers of the streams still open.
  ssize_t receive(const char* data, std::size_t length);
  void submit_response(Stream& stream);
  // Pulls a streamed body part by part as nghttp2 sends it; returns when it ended or was cut off.
  Task<void> stream_body(Stream& stream);
  // Resets a stream whose response is out but whose request body is unwanted, when it should.
  void finish_unread_body(Stream& stream);
  void log_access(const Stream& stream);
  bool on_deadline();
  void update_deadline();
  bool start_session(const Handover& handover);
  void fail(std::string_view why);

  std::unique_ptr<Transport> transport_;
  asio::any_io_executor executor_;
  ConnectionContext context_;
  const Settings& settings_;
  Watchdog watchdog_;
  asio::steady_timer writer_wake_;
  ConnectionTracker::Handle tracker_handle_;
  PeerInfo peer_;

  nghttp2_session* session_ = nullptr;
  std::map<std::int32_t, std::shared_ptr<Stream>> streams_;
  // Finished streams kept for reuse (see Stream::recycle).
  static constexpr std::size_t kSpareStreams = 16;
  std::vector<std::shared_ptr<Stream>> spare_streams_;
  // Streams whose request head arrived in the input being read: their handlers start once
  // all of it is read, so one reset in the same read (rapid reset) costs no handler at all.
  std::vector<std::int32_t> heads_read_;
  // The last stream ids the client opened, oldest overwritten first: a HEADERS frame on a lower
  // id than the highest must belong to one of them (trailers, late frames after a reset).
  std::array<std::int32_t, 256> recent_streams_{};
  std::size_t recent_next_ = 0;
  std::int32_t highest_stream_ = 0;
  std::string out_;            // frames waiting to be written
  std::string pending_input_;  // bytes handed over from HTTP/1.1
  std::size_t running_handlers_ = 0;
  std::uint32_t empty_data_frames_ = 0;
  bool closing_ = false;
  bool goaway_sent_ = false;
};

}  // namespace collage::http2
