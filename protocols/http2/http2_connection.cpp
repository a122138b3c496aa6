#include "http2_connection.h"

#include "collage/file_read.h"

#include <unistd.h>
#include <charconv>

#include <array>
#include <asio/experimental/awaitable_operators.hpp>
#include <cstdlib>

#include "collage/cache.h"
#include "collage/generation.h"
#include "collage/http_date.h"
#include "collage/log.h"
#include "collage/middle_end.h"
#include "collage/path.h"
#include "collage/scoreboard.h"

namespace collage::http2 {
namespace {

using Clock = Watchdog::Clock;

int base64url_value(char c) {
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '-' || c == '+')
    return 62;
  if (c == '_' || c == '/')
    return 63;
  return -1;
}

bool base64url_decode(std::string_view text, std::string& out) {
  out.clear();
  std::uint32_t bits = 0;
  int count = 0;
  for (char c : text) {
    if (c == '=') {
      break;
    }
    const int v = base64url_value(c);
    if (v < 0) {
      return false;
    }
    bits = (bits << 6) | static_cast<std::uint32_t>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += static_cast<char>((bits >> count) & 0xff);
    }
  }
  return true;
}

bool is_connection_specific(std::string_view name) {
  return iequals(name, "connection") || iequals(name, "keep-alive") ||
         iequals(name, "transfer-encoding") || iequals(name, "upgrade") ||
         iequals(name, "proxy-connection");
}

}  // namespace

nghttp2_session_callbacks* make_callbacks();  // http2_callbacks.cpp

static bool has_file_bucket(const Brigade& body) {
  for (const Bucket& b : body.buckets()) {
    if (b.kind == Bucket::Kind::file) {
      return true;
    }
  }
  return false;
}

Connection::Connection(std::unique_ptr<Transport> transport, ConnectionContext context,
                       const Settings& settings)
    : transport_(std::move(transport)),
      executor_(transport_->socket().get_executor()),
      context_(std::move(context)),
      settings_(settings),
      watchdog_(executor_, [this] { return on_deadline(); }),
      writer_wake_(executor_) {
  tracker_handle_ = context_.services->connections().add(this);
  asio::error_code ec;
  auto& socket = transport_->socket();
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
  peer_ = context_.peer != nullptr ? *context_.peer : transport_->peer_info();
  if (context_.score != nullptr) {
    context_.score->set_client(peer_.address);
  }
  transport_->set_before_write_wait(
      [this] { watchdog_.set_deadline(Clock::now() + settings_.stall_timeout); });
}

Connection::~Connection() {
  context_.services->connections().remove(tracker_handle_);
  if (session_ != nullptr) {
    nghttp2_session_del(session_);
  }
}

void Connection::wake_writer() {
  writer_wake_.cancel();
}

void Connection::drain() {
  if (session_ != nullptr && !goaway_sent_) {
    goaway_sent_ = true;
    nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                          nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                          nullptr, 0);
    wake_writer();
  }
}

void Connection::fail(std::string_view why) {
  COLLAGE_LOG(LogLevel::info, "COL-H2-0001", "{}:{}: {}", peer_.address, peer_.port, why);
  closing_ = true;
  wake_writer();
}

bool Connection::start_session(const Handover& handover) {
  nghttp2_session_callbacks* callbacks = make_callbacks();
  nghttp2_option* option = nullptr;
  nghttp2_option_new(&option);
  // The window opens only as stores take request bodies: backpressure instead of buffering.
  nghttp2_option_set_no_auto_window_update(option, 1);
  nghttp2_option_set_stream_reset_rate_limit(option, settings_.reset_burst, settings_.reset_rate);
  nghttp2_option_set_max_continuations(option, 8);
  const int rv = nghttp2_session_server_new2(&session_, callbacks, this, option);
  nghttp2_option_del(option);
  nghttp2_session_callbacks_del(callbacks);
  if (rv != 0) {
    return false;
  }
  const nghttp2_settings_entry entries[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, settings_.max_concurrent_streams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, settings_.initial_window_size},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, settings_.max_header_list_size},
  };
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, entries, std::size(entries));
  nghttp2_session_set_local_window_size(
      session_, NGHTTP2_FLAG_NONE, 0, static_cast<std::int32_t>(settings_.connection_window_size));
  pending_input_ = handover.already_read;
  if (handover.upgrade) {
    std::string payload;
    if (!base64url_decode(handover.http2_settings, payload) ||
        nghttp2_session_upgrade2(session_, reinterpret_cast<const std::uint8_t*>(payload.data()),
                                 payload.size(), handover.method == "HEAD", nullptr) != 0) {
      fail("bad HTTP2-Settings in an h2c upgrade");
      return false;
    }
    auto stream = std::make_shared<Stream>(*this, 1, executor_);
    stream->method = handover.method;
    stream->path = handover.target;
    stream->authority = handover.authority;
    stream->scheme = "http";
    stream->fields = handover.headers;
    stream->head_complete = true;
    stream->body_complete = true;
    streams_.emplace(1, stream);
    dispatch(stream);
  }
  return true;
}

Task<void> Connection::run(const Handover& handover) {
  using namespace asio::experimental::awaitable_operators;
  if (!start_session(handover)) {
    transport_->close();
    co_return;
  }
  update_deadline();
  co_await (reader() || writer() || watchdog_.run());
  // Stop every stream still at work and wait for its handler before the session goes away.
  closing_ = true;
  for (auto& [id, stream] : streams_) {
    stream->closed = true;
    stream->body_ready.cancel();
    stream->part_sent.cancel();
  }
  asio::steady_timer wait(executor_);
  while (running_handlers_ > 0) {
    wait.expires_after(std::chrono::milliseconds(5));
    co_await wait.async_wait(kAsTuple);
  }
  // A lingering close: input the client sent after our GOAWAY (a flood we stopped reading) is
  // read and dropped for a moment, so the kernel does not answer it with a reset that could
  // destroy the GOAWAY before the client reads it.
  co_await transport_->close_gracefully(std::chrono::seconds(1));
}

Task<void> Connection::reader() {
  std::array<char, 16 * 1024> buffer;
  if (!pending_input_.empty()) {
    const ssize_t rv = receive(pending_input_.data(), pending_input_.size());
    pending_input_.clear();
    if (rv < 0) {
      fail(std::string("protocol error: ") + nghttp2_strerror(static_cast<int>(rv)));
    }
    wake_writer();
  }
  while (!closing_) {
    auto [ec, n] = co_await transport_->read_some(asio::buffer(buffer));
    if (ec || n == 0) {
      co_return;  // the peer closed; the writer is cancelled with us
    }
    const ssize_t rv = receive(buffer.data(), n);
    if (rv < 0) {
      // nghttp2 has queued a GOAWAY with the right error code; let the writer send it.
      fail(std::string("protocol error: ") + nghttp2_strerror(static_cast<int>(rv)));
      break;
    }
    update_deadline();
    wake_writer();
  }
  // Wait for the writer to flush and end the connection.
  asio::steady_timer forever(executor_, asio::steady_timer::time_point::max());
  co_await forever.async_wait(kAsTuple);
}

Task<void> Connection::writer() {
  for (;;) {
    if (nghttp2_session_send(session_) != 0) {
      co_return;
    }
    if (!out_.empty()) {
      const WireResult result = co_await transport_->write(out_, false);
      out_.clear();
      if (result != WireResult::ok) {
        co_return;
      }
      update_deadline();
      continue;
    }
    const bool finished =
        !nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_);
    if (closing_ || finished || (goaway_sent_ && streams_.empty() && running_handlers_ == 0)) {
      co_return;
    }
    writer_wake_.expires_at(asio::steady_timer::time_point::max());
    co_await writer_wake_.async_wait(kAsTuple);
  }
}

void Connection::update_deadline() {
  const bool idle = streams_.empty() && running_handlers_ == 0;
  watchdog_.set_deadline(Clock::now() + (idle ? settings_.idle_timeout : settings_.stall_timeout));
}

bool Connection::on_deadline() {
  bool sending = false;
  for (const auto& [id, stream] : streams_) {
    sending =
        sending || (stream->response_submitted && !stream->response_done && !stream->deferred);
  }
  if (!sending && running_handlers_ > 0) {
    // Stores at work; their own timeouts bound them.
    watchdog_.set_deadline(Clock::now() + settings_.stall_timeout);
    return false;
  }
  COLLAGE_LOG(LogLevel::info, "COL-H2-0002", "{}:{}: {}, closing", peer_.address, peer_.port,
              sending ? "stalled (the client's flow-control window stays shut)" : "idle");
  transport_->close();
  return true;
}

ssize_t Connection::receive(const char* data, std::size_t length) {
  const ssize_t rv =
      nghttp2_session_mem_recv(session_, reinterpret_cast<const std::uint8_t*>(data), length);
  for (const std::int32_t id : heads_read_) {
    if (auto it = streams_.find(id); it != streams_.end() && !it->second->closed) {
      dispatch(it->second);
    }
  }
  heads_read_.clear();
  return rv;
}

void Connection::dispatch(const std::shared_ptr<Stream>& stream) {
  stream->dispatched = true;
  ++running_handlers_;
  asio::co_spawn(executor_, handle_stream(stream), asio::detached);
}

Task<void> Connection::handle_stream(std::shared_ptr<Stream> stream) {
  Stream& s = *stream;
  Request& request = s.request;
  Entity& entity = s.entity;
  request.protocol = "h2";
  request.assign_id();
  request.method_token = s.method;
  request.method = method_from_token(s.method);
  request.target = s.path;
  request.peer = &peer_;
  request.secure = transport_->secure();
  request.received = std::chrono::system_clock::now();
  for (const auto& [name, value] : s.fields) {
    request.headers.add(name, value);
  }
  if (std::string client =
          real_client_address(context_.generation->real_ip(), peer_.address, request.headers);
      !client.empty()) {
    s.real_peer = peer_;
    s.real_peer.address = std::move(client);
    s.real_peer.port = 0;
    request.peer = &s.real_peer;
  }
  std::string_view host = s.authority.empty() ? request.headers.get("host") : s.authority;
  if (host.starts_with('[')) {
    host = host.substr(0, host.find(']') + 1);
  } else {
    host = host.substr(0, host.rfind(':'));
  }
  s.normalized_host.assign(host);
  for (char& c : s.normalized_host) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  request.host = s.normalized_host;
  const std::string_view target = s.path;
  const std::size_t question = target.find('?');
  request.query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);

  int early_status = 0;
  if (s.header_bytes > settings_.max_header_list_size) {
    early_status = 431;
  } else if ((request.method == Method::unknown && request.method_token != "PURGE") ||
             request.method == Method::connect) {
    early_status = 501;
  } else {
    switch (normalize_path(target.substr(0, question), request.path)) {
      case PathResult::ok: break;
      case PathResult::encoded_slash: early_status = 404; break;
      default: early_status = 400; break;
    }
  }
  if (context_.score != nullptr) {
    context_.score->set_state(WorkerState::writing);
  }
  // Lives until the body is out: a filter on a streamed body may refer to it (middle_end.h).
  std::optional<RequestContext> routed;
  const QuickCache* quick = context_.listener != nullptr && context_.listener->config.admin
                                ? nullptr
                                : context_.generation->quick_cache();
  if (early_status != 0) {
    entity.set_error(early_status);
  } else if (s.body_complete && s.body_chunks.empty() && quick != nullptr &&
             within_address_rate(*context_.generation, request, *context_.services) &&
             quick->answer(request, entity)) {
    // The quick path: a fresh stored response, before routing.
  } else {
    RequestContext& ctx = routed.emplace(route(*context_.generation, request, *context_.services));
    if (!s.body_complete || !s.body_chunks.empty()) {
      s.body_limit = ctx.location.place.limit_request_body;
      if (const std::string_view cl = request.headers.get("content-length"); !cl.empty()) {
        s.content_length = std::strtoull(std::string(cl).c_str(), nullptr, 10);
      }
      request.body = &s.body;
    } else if (request.method == Method::put || request.method == Method::post) {
      // An empty body is a body of length zero in HTTP/2; nothing to read.
    }
    if (s.content_length && *s.content_length > s.body_limit) {
      entity.set_error(413);
    } else {
      co_await respond(ctx, entity);
    }
  }
  s.handler_done = true;
  if (entity.stream == nullptr && entity.body.size() > entity.stream_part_limit &&
      has_file_bucket(entity.body)) {
    // A large file goes out part by part like a stream, each part read before nghttp2 frames
    // it, so a read the disk must serve happens off this thread (file_read.h); small files are
    // read in on_send_data, the fast path.
    entity.stream = std::make_unique<BrigadeStream>(std::move(entity.body));
    entity.body.clear();
  }
  if (!s.closed && !closing_) {
    submit_response(s);
    if (entity.stream != nullptr) {
      co_await stream_body(s);  // no coroutine frame for the common ready body
    }
    // The store has finished: body bytes it left unread are dropped, and their window given back
    // so the client can finish sending (or is reset after the response: finish_unread_body).
    if (const std::size_t unread = s.drop_unread(); unread > 0) {
      s.body_discarded += unread;
      nghttp2_session_consume_connection(session_, unread);
    }
  }
  log_access(s);
  --running_handlers_;
  if (context_.score != nullptr) {
    context_.score->finish_request(entity.body.size());
    if (running_handlers_ == 0) {
      context_.score->set_state(WorkerState::keepalive);
    }
  }
  update_deadline();
  wake_writer();
}

void Connection::submit_response(Stream& s) {
  Entity& e = s.entity;
  e.add_request_id(s.request.id_text());
  // nghttp2_submit_response copies every name and value, so they may point at the entity, at
  // literals and at this frame; only names that need lower-casing get a (reused) buffer.
  thread_local std::vector<nghttp2_nv> nva;
  thread_local std::vector<std::string> lowered;
  nva.clear();
  std::size_t lowered_used = 0;
  auto add = [&](std::string_view name, std::string_view value) {
    nva.push_back({const_cast<std::uint8_t*>(reinterpret_cast<const std::uint8_t*>(name.data())),
                   const_cast<std::uint8_t*>(reinterpret_cast<const std::uint8_t*>(value.data())),
                   name.size(), value.size(), NGHTTP2_NV_FLAG_NONE});
  };
  const bool bodyless = e.status < 200 || e.status == 204 || e.status == 304;
  char status[4];
  const auto status_end = std::to_chars(status, status + sizeof status, e.status).ptr;
  add(":status", std::string_view(status, static_cast<std::size_t>(status_end - status)));
  add("server", "Collage");
  // A gateway keeps the origin's Date (RFC 9110 §6.6.1): a stored or proxied response has one.
  if (!e.headers.contains("Date")) {
    add("date", cached_http_date_now());
  }
  if (!e.content_type.empty() && !bodyless) {
    add("content-type", e.content_type);
  }
  char length[24];
  if (e.length && !bodyless) {
    const auto length_end = std::to_chars(length, length + sizeof length, *e.length).ptr;
    add("content-length", std::string_view(length, static_cast<std::size_t>(length_end - length)));
  }
  char date[kHttpDateLength];
  if (e.last_modified) {
    format_http_date(*e.last_modified, date);
    add("last-modified", std::string_view(date, kHttpDateLength));
  }
  if (!e.etag.empty()) {
    add("etag", e.etag);
  }
  const auto& fields = e.headers.fields();
  if (lowered.size() < fields.size()) {
    lowered.resize(fields.size());  // resized before any name points into it
  }
  for (const auto& [name, value] : fields) {
    if (is_connection_specific(name)) {
      continue;
    }
    std::string& lower = lowered[lowered_used++];
    lower.assign(name);
    for (char& c : lower) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    add(lower, value);
  }
  const bool send_body =
      !bodyless && s.request.method != Method::head && (e.body.size() > 0 || e.stream != nullptr);
  if (!send_body) {
    e.stream.reset();  // HEAD, 304: nobody wants what a producer would make
  }
  s.source_ended = e.stream == nullptr;
  nghttp2_data_provider provider{};
  provider.source.ptr = &s;
  provider.read_callback = [](nghttp2_session*, std::int32_t stream_id, std::uint8_t*,
                              std::size_t length, std::uint32_t* flags, nghttp2_data_source*,
                              void* user_data) -> ssize_t {
    return static_cast<Connection*>(user_data)->on_read_data(stream_id, length, flags);
  };
  s.response_submitted = true;
  s.response_done = !send_body;
  s.body_bytes_sent = send_body ? e.body.size() : 0;
  nghttp2_submit_response(session_, s.id, nva.data(), nva.size(), send_body ? &provider : nullptr);
}

Task<void> Connection::stream_body(Stream& s) {
  Entity& e = s.entity;
  while (e.stream != nullptr) {
    // The next part is pulled only once nghttp2 has taken this one, which it does as the
    // client's flow-control window allows: a slow client slows the producer.
    while (!s.closed && !closing_ && s.bucket_index < e.body.buckets().size()) {
      s.part_sent.expires_at(asio::steady_timer::time_point::max());
      co_await s.part_sent.async_wait(kAsTuple);
    }
    // Nothing is read for a stream the client's flow control keeps shut (a zero-window stall
    // holding thousands of streams would otherwise hold a part of each in memory).
    while (!s.closed && !closing_ &&
           std::min(nghttp2_session_get_stream_remote_window_size(session_, s.id),
                    nghttp2_session_get_remote_window_size(session_)) <= 0) {
      s.awaiting_window = true;
      s.part_sent.expires_at(asio::steady_timer::time_point::max());
      co_await s.part_sent.async_wait(kAsTuple);
    }
    s.awaiting_window = false;
    if (s.closed || closing_) {
      break;  // the client reset the stream or left: the producer is cancelled below
    }
    e.body.clear();
    s.bucket_index = 0;
    s.bucket_offset = 0;
    StreamStatus status = co_await e.stream->next(e.body, e.stream_part_limit);
    if (s.closed || closing_) {
      break;
    }
    if (status != StreamStatus::more) {
      e.stream.reset();
      s.source_ended = true;
    }
    if (status != StreamStatus::failed && !co_await read_file_buckets(context_.services, e.body)) {
      status = StreamStatus::failed;  // the file shrank under us
    }
    if (s.closed || closing_) {
      break;
    }
    if (status == StreamStatus::failed) {
      // The body broke off: the client must not take what it got as complete (RFC 9113 §8.1).
      s.reset_sent = true;
      nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s.id, NGHTTP2_INTERNAL_ERROR);
    } else {
      s.body_bytes_sent += e.body.size();
      if (s.deferred) {
        s.deferred = false;
        nghttp2_session_resume_data(session_, s.id);
      }
    }
    wake_writer();
  }
  e.stream.reset();
}

void Connection::finish_unread_body(Stream& s) {
  // A body nobody reads is taken and dropped as long as the stream's window lets the client
  // send it (the connection's window is given back, the stream's is not): a small body ends
  // normally, and frames that follow the response still get the errors RFC 9113 names. Once
  // the client can send no more, or past the location's limit, or after a 413, the stream is
  // reset with NO_ERROR: the answer is complete (§8.1).
  if (s.reset_sent || s.closed || s.body_complete || !s.end_stream_sent) {
    return;
  }
  if (s.entity.status == 413 || s.body_received + s.body_discarded > s.body_limit ||
      nghttp2_session_get_stream_local_window_size(session_, s.id) <= 0) {
    s.reset_sent = true;
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s.id, NGHTTP2_NO_ERROR);
    wake_writer();
  }
}

void Connection::log_access(const Stream& s) {
  if (!context_.generation->logs_requests()) {
    if (context_.generation->counts_requests()) {
      // The quick path's answers are told apart by their Cache-Status alone.
      const bool routed = s.request.routed_location != nullptr;
      context_.generation->count_request(AccessRecord{
          .status = s.entity.status,
          .bytes = s.body_bytes_sent,
          .cache_status = routed ? std::string_view() : s.entity.headers.get("Cache-Status"),
          .protocol = "http2",
          .request = &s.request});
    }
    return;
  }
  thread_local std::string request_line;
  request_line.clear();
  request_line += s.method;
  request_line += ' ';
  request_line += s.path;
  request_line += " HTTP/2.0";
  context_.generation->log_request(
      AccessRecord{.client = s.request.peer->address,
                   .user = s.request.user,
                   .request_line = request_line,
                   .status = s.entity.status,
                   .bytes = s.body_bytes_sent,
                   .referer = s.request.headers.get("referer"),
                   .user_agent = s.request.headers.get("user-agent"),
                   .cache_status = s.entity.headers.get("Cache-Status"),
                   .protocol = "http2",
                   .request = &s.request,
                   .tls_version = transport_->tls_version()});
}

}  // namespace collage::http2
