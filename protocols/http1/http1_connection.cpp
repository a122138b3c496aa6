#include "http1_connection.h"

#include <optional>

#include <sys/socket.h>

#include <asio/experimental/awaitable_operators.hpp>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "collage/generation.h"
#include "collage/log.h"
#include "collage/path.h"
#include "collage/scoreboard.h"
#include "collage/wire.h"
#include "http1_response.h"

namespace collage::http1 {
namespace {

constexpr std::size_t kInitialBuffer = 4096;
// Memory buckets up to this size are copied next to the head so one send() carries both.
constexpr std::size_t kCoalesceLimit = 16 * 1024;
// A request body the store left unread is read and dropped up to this size to keep the
// connection; a larger one closes it.
constexpr std::uint64_t kDiscardLimit = 1024 * 1024;
// How long an idle keep-alive connection waits for one more request once its child stops.
constexpr std::chrono::milliseconds kDrainGrace{1000};

// A few freed input buffers per thread, so idle connections can give theirs back for free.
struct BufferPool {
  std::vector<std::unique_ptr<char[]>> free;
  ~BufferPool() = default;
};
thread_local BufferPool buffer_pool;

std::unique_ptr<char[]> take_buffer() {
  if (!buffer_pool.free.empty()) {
    auto b = std::move(buffer_pool.free.back());
    buffer_pool.free.pop_back();
    return b;
  }
  return std::unique_ptr<char[]>(new char[kInitialBuffer]);
}

void give_buffer(std::unique_ptr<char[]> buffer) {
  if (buffer_pool.free.size() < 256) {
    buffer_pool.free.push_back(std::move(buffer));
  }
}

}  // namespace

Connection::Connection(std::unique_ptr<Transport> transport, ConnectionContext context,
                       const Settings& settings)
    : transport_(std::move(transport)),
      socket_(transport_->socket()),
      watchdog_(socket_.get_executor(), [this] { return on_deadline(); }),
      context_(std::move(context)),
      settings_(settings),
      state_(nullptr) {
  tracker_handle_ = context_.services->connections().add(this);
  transport_->set_before_write_wait(
      [this] { watchdog_.set_deadline(Clock::now() + settings_.send_timeout); });
  peer_ = context_.peer != nullptr ? *context_.peer : transport_->peer_info();
  if (context_.score != nullptr) {
    context_.score->set_client(peer_.address);
  }
}

Connection::~Connection() {
  context_.services->connections().remove(tracker_handle_);
  return_state();
  if (input_) {
    give_buffer(std::move(input_));
  }
}

void Connection::drain() {
  draining_ = true;
  // An idle keep-alive connection gets a short grace: a request already on its way is answered
  // (with Connection: close) instead of meeting a close or a reset, which made clients under
  // load fail across every graceful restart (bench/admin_apply_bench.py). A connection accepted
  // just before the stop still gets its first request answered (within RequestHeaderTimeout).
  if (phase_ == Phase::idle && requests_ > 0) {
    watchdog_.set_deadline(std::min(
        watchdog_.deadline(), Clock::now() + std::min(settings_.keep_alive_timeout, kDrainGrace)));
  }
}

Task<void> Connection::run() {
  // A timer callback, not a coroutine beside the session: an idle connection then holds one
  // coroutine chain and one timer, nothing more. A deadline closes the socket, ending session().
  watchdog_.set_deadline(Clock::now() + settings_.header_timeout);
  watchdog_.start();
  co_await session();
  watchdog_.stop();
  if (!handover_) {
    asio::error_code ec;
    socket_.close(ec);
  }
}

bool Connection::can_hand_over() const {
  return context_.generation->protocol("h2") != nullptr && !draining_;
}

bool Connection::on_deadline() {
  if (phase_ == Phase::processing) {
    // A store at work is not the client's fault; stores bound their own waits.
    watchdog_.set_deadline(Clock::now() + settings_.keep_alive_timeout);
    return false;
  }
  on_timeout();
  return true;
}

void Connection::on_timeout() {
  timed_out_ = true;
  if (phase_ == Phase::reading_head) {
    COLLAGE_LOG(LogLevel::info, "COL-HTTP1-0004", "{}:{}: request header timeout, closing",
                peer_.address, peer_.port);
    // Best effort, never blocking: tell a slow client why it is being dropped.
    static constexpr std::string_view k408 =
        "HTTP/1.1 408 Request Timeout\r\nServer: Collage\r\nContent-Length: 0\r\n"
        "Connection: close\r\n\r\n";
    transport_->try_send_now(k408);
  } else if (phase_ != Phase::idle) {
    COLLAGE_LOG(LogLevel::info, "COL-HTTP1-0005", "{}:{}: timeout while {}, closing", peer_.address,
                peer_.port, phase_ == Phase::reading_body ? "reading the request body" : "sending");
  }
  asio::error_code ec;
  socket_.close(ec);
}

void Connection::make_room() {
  if (!input_) {
    input_ = take_buffer();
    capacity_ = kInitialBuffer;
    start_ = end_ = 0;
  }
  if (start_ == end_) {
    start_ = end_ = 0;
  } else if (end_ == capacity_ && start_ > 0) {
    std::memmove(input_.get(), input_.get() + start_, end_ - start_);
    end_ -= start_;
    start_ = 0;
  }
  if (end_ == capacity_) {
    const std::size_t bigger = std::max(capacity_ * 2, settings_.max_head_size + 1);
    std::unique_ptr<char[]> grown(new char[bigger]);
    std::memcpy(grown.get(), input_.get() + start_, end_ - start_);
    end_ -= start_;
    start_ = 0;
    if (capacity_ == kInitialBuffer) {
      give_buffer(std::move(input_));
    }
    input_ = std::move(grown);
    capacity_ = bigger;
  }
}

std::vector<std::unique_ptr<Connection::RequestState>>& Connection::state_pool() {
  thread_local std::vector<std::unique_ptr<RequestState>> pool;
  return pool;
}

void Connection::borrow_state() {
  if (state_) {
    return;
  }
  auto& pool = state_pool();
  if (pool.empty()) {
    state_ = std::make_unique<RequestState>();
  } else {
    state_ = std::move(pool.back());
    pool.pop_back();
  }
  state_->body.attach(*this);
}

void Connection::return_state() {
  if (!state_) {
    return;
  }
  auto& pool = state_pool();
  // An unusually large request or response does not keep its memory in the pool.
  if (pool.size() < kStatePoolSize && state_->head_block.capacity() <= kKeepCapacity &&
      state_->out.capacity() <= kKeepCapacity) {
    state_->entity.reset();
    pool.push_back(std::move(state_));
  }
  state_.reset();
}

void Connection::release_idle_buffer() {
  return_state();
  if (input_ && start_ == end_) {
    if (capacity_ == kInitialBuffer) {
      give_buffer(std::move(input_));
    } else {
      input_.reset();
    }
    capacity_ = start_ = end_ = 0;
  }
}

Task<bool> Connection::fill() {
  make_room();
  auto [ec, n] =
      co_await transport_->read_some(asio::buffer(input_.get() + end_, capacity_ - end_));
  if (ec || n == 0) {
    co_return false;
  }
  end_ += n;
  co_return true;
}

Task<int> Connection::read_head(std::size_t& head_length) {
  bool head_deadline_set = false;
  for (;;) {
    // RFC 9112 §2.2: ignore empty lines before the request line.
    while (start_ < end_ && (input_[start_] == '\r' || input_[start_] == '\n')) {
      ++start_;
    }
    if (start_ < end_) {
      phase_ = Phase::reading_head;
      set_score_state(WorkerState::reading);
      const std::string_view available = buffered();
      head_length = find_head_end(available);
      if (head_length != 0) {
        co_return head_length > settings_.max_head_size ? 431 : 0;
      }
      const std::size_t first_line_end = available.find('\n');
      if ((first_line_end == std::string_view::npos &&
           available.size() > settings_.limits.max_request_line) ||
          (first_line_end != std::string_view::npos &&
           first_line_end > settings_.limits.max_request_line + 1)) {
        co_return 414;
      }
      if (available.size() > settings_.max_head_size) {
        co_return 431;
      }
      // Only a head that needs more reads gets a deadline: the usual one-read request never
      // touches the timer.
      if (!head_deadline_set) {
        watchdog_.set_deadline(Clock::now() + settings_.header_timeout);
        head_deadline_set = true;
      }
    }
    if (!co_await fill()) {
      co_return -1;
    }
  }
}

Task<void> Connection::session() {
  for (;;) {
    phase_ = Phase::idle;
    if (requests_ > 0) {
      watchdog_.set_deadline(Clock::now() + settings_.keep_alive_timeout);
      set_score_state(WorkerState::keepalive);
    }
    if (draining_ && requests_ > 0 && start_ == end_) {
      co_return;
    }
    if (start_ == end_ && requests_ > 0) {
      // Idle: wait here, at the top of the chain, holding no buffer and no deeper frames.
      release_idle_buffer();
      if (co_await transport_->wait_readable()) {
        co_return;
      }
    } else if (start_ == end_ && !input_) {
      // New: its request is usually there already, so read it at once (into a scratch buffer,
      // copied into a real one only when bytes came); a silent one waits like an idle one.
      thread_local char scratch[kInitialBuffer];
      if (const auto n = transport_->read_now(asio::buffer(scratch))) {
        if (*n == 0) {
          co_return;
        }
        make_room();
        std::memcpy(input_.get(), scratch, *n);
        end_ = *n;
      } else if (co_await transport_->wait_readable()) {
        co_return;
      }
    }
    borrow_state();
    std::size_t head_length = 0;
    const int status = co_await read_head(head_length);
    if (status < 0) {
      co_return;
    }
    if (status >= 400) {
      COLLAGE_LOG(LogLevel::info, "COL-HTTP1-0001", "{}:{}: {} {}", peer_.address, peer_.port,
                  status, status == 414 ? "request line too long" : "request header too large");
      state_->head.request_line = {};
      state_->request.assign_id();
      co_await send_error(status, "");
      co_return;
    }
    ++requests_;
    if (!co_await serve_request(head_length)) {
      co_return;
    }
  }
}

Task<bool> Connection::send_error(int status, std::string_view reason) {
  if (!reason.empty()) {
    COLLAGE_LOG(LogLevel::info, "COL-HTTP1-0001", "{}:{}: {} {}", peer_.address, peer_.port, status,
                reason);
  }
  state_->entity.set_error(status);
  state_->head.version_minor = 1;
  co_await write_response(/*head_request=*/false, /*keep_alive=*/false);
  co_await linger_close();
  co_return false;
}

Task<bool> Connection::serve_request(std::size_t head_length) {
  state_->head_block.assign(input_.get() + start_, head_length);
  start_ += head_length;
  state_->request.reset();
  state_->request.assign_id();
  state_->entity.reset();
  phase_ = Phase::processing;

  // h2c with prior knowledge (RFC 9113 §3.3): the HTTP/2 preface instead of a request.
  if (state_->head_block == "PRI * HTTP/2.0\r\n\r\n" && requests_ == 1 && can_hand_over()) {
    handover_ = std::make_unique<Handover>();
    handover_->already_read = state_->head_block;
    handover_->already_read += buffered();
    start_ = end_;
    co_return false;
  }

  const ParseError error = parse_request_head(state_->head_block, settings_.limits, state_->head);
  if (error.status != 0) {
    co_return co_await send_error(error.status, error.reason);
  }

  state_->request.protocol = "http1";
  state_->request.method = state_->head.method;
  state_->request.method_token = state_->head.method_token;
  state_->request.target = state_->head.target;
  state_->request.query = state_->head.query;
  state_->request.peer = &peer_;
  state_->request.secure = transport_->secure();
  state_->request.received = std::chrono::system_clock::now();
  std::swap(state_->request.headers, state_->head.headers);
  if (std::string client = real_client_address(context_.generation->real_ip(), peer_.address,
                                               state_->request.headers);
      !client.empty()) {
    state_->real_peer = peer_;
    state_->real_peer.address = std::move(client);
    state_->real_peer.port = 0;  // the proxy's port says nothing about the client's
    state_->request.peer = &state_->real_peer;
  }
  state_->host.assign(state_->head.host);
  for (char& c : state_->host) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (!state_->host.empty() && state_->host.back() == '.') {
    state_->host.pop_back();
  }
  state_->request.host = state_->host;

  const Generation& generation = *context_.generation;
  if (state_->head.form == TargetForm::asterisk) {
    // OPTIONS * asks about the server as a whole.
    state_->entity.reset();
    state_->entity.length = 0;
    std::string allow;
    MethodSet methods = generation.all_methods();
    methods.add(Method::options);
    append_allow_header_value(methods, allow);
    state_->entity.headers.add("Allow", std::move(allow));
    const bool keep = state_->head.keep_alive && !draining_ && !state_->head.chunked &&
                      !state_->head.content_length;
    const bool ok = co_await write_response(false, keep);
    const bool reuse = ok && keep;
    co_return reuse;
  }

  switch (normalize_path(state_->head.path, state_->request.path)) {
    case PathResult::ok: break;
    case PathResult::encoded_slash:
      // Like httpd's AllowEncodedSlashes Off: no such resource, rather than a malformed request.
      co_return co_await send_error(404, "encoded slash in path");
    case PathResult::above_root: co_return co_await send_error(400, "path climbs above the root");
    case PathResult::nul_byte: co_return co_await send_error(400, "NUL in path");
    default: co_return co_await send_error(400, "bad percent-encoding in path");
  }
  // PURGE goes on to the pipeline: a cache provider answers it where CachePurge allows it.
  if (state_->request.method == Method::unknown && state_->request.method_token != "PURGE") {
    co_return co_await send_error(501, "unknown method");
  }

  const bool has_body = state_->head.chunked || state_->head.content_length.value_or(0) > 0;
  // The quick path: a fresh stored response, before routing. The context lives on (when the full
  // path makes one) until the response is written.
  // Not on an admin listener: its answers never come from (or go to) the cache.
  const bool admin = context_.listener != nullptr && context_.listener->config.admin;
  const QuickCache* quick = admin ? nullptr : generation.quick_cache();
  const bool answered_quickly =
      !has_body && quick != nullptr && !state_->request.headers.contains("Upgrade") &&
      within_address_rate(generation, state_->request, *context_.services) &&
      quick->answer(state_->request, state_->entity);
  std::optional<RequestContext> ctx;
  if (!answered_quickly) {
    ctx.emplace(route(generation, state_->request, *context_.services));
    if (has_body) {
      if (state_->head.content_length &&
          *state_->head.content_length > ctx->location.place.limit_request_body) {
        co_return co_await send_error(413, "declared body larger than LimitRequestBody");
      }
      state_->body.start(state_->head, ctx->location.place.limit_request_body);
      state_->request.body = &state_->body;
    } else if (!state_->head.content_length &&
               (state_->request.method == Method::put || state_->request.method == Method::post)) {
      co_return co_await send_error(411, "no Content-Length");
    }

    if (co_await upgrade_to_h2c(has_body)) {
      co_return false;
    }
  }

  if (context_.score != nullptr) {
    context_.score->begin_request(state_->head.request_line);
  }
  if (!answered_quickly) {
    co_await respond(*ctx, state_->entity);
  }
  if (state_->entity.status == 101) {
    co_return co_await switch_protocols();
  }

  bool keep_alive =
      state_->head.keep_alive && settings_.keep_alive && !draining_ &&
      (settings_.max_keep_alive_requests == 0 || requests_ < settings_.max_keep_alive_requests);
  if (has_body && !state_->body.complete()) {
    // The store did not read the whole body: read and drop the rest, so the connection can go
    // on; a body too large to drop, or a client waiting for 100 Continue, closes it instead.
    switch (co_await state_->body.discard(kDiscardLimit)) {
      case Body::Discard::done: break;
      case Body::Discard::malformed:
        state_->entity.reset();
        co_return co_await send_error(400, "malformed chunked body");
      case Body::Discard::cut_off: keep_alive = false; break;
    }
  }
  const bool ok = co_await write_response(state_->request.method == Method::head, keep_alive);
  if (!keep_alive && ok && (start_ < end_ || (has_body && !state_->body.complete()))) {
    co_await linger_close();  // unread input would turn our close into a reset
  }
  const bool reuse = ok && keep_alive;
  co_return reuse;
}

Task<bool> Connection::upgrade_to_h2c(bool has_body) {
  // "Upgrade: h2c" (RFC 7540 §3.2), honoured for body-less requests on cleartext connections.
  const std::string_view upgrade = state_->request.headers.get("Upgrade");
  if (has_body || transport_->secure() || !state_->request.headers.contains("HTTP2-Settings") ||
      !can_hand_over() || upgrade.find("h2c") == std::string_view::npos) {
    co_return false;
  }
  if (!co_await send_bytes("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                           "Upgrade: h2c\r\n\r\n",
                           false)) {
    co_return false;
  }
  handover_ = std::make_unique<Handover>();
  Handover& h = *handover_;
  h.upgrade = true;
  h.http2_settings = state_->request.headers.get("HTTP2-Settings");
  h.method = state_->head.method_token;
  h.target = state_->head.target;
  h.authority = state_->head.host;
  for (const auto& [name, value] : state_->request.headers.fields()) {
    if (iequals(name, "Upgrade") || iequals(name, "HTTP2-Settings") ||
        iequals(name, "Connection") || iequals(name, "Host")) {
      continue;
    }
    std::string lower(name);
    for (char& c : lower) {
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    h.headers.emplace_back(std::move(lower), std::string(value));
  }
  h.already_read.assign(buffered());
  start_ = end_;
  co_return true;
}

Task<bool> Connection::switch_protocols() {
  Entity& entity = state_->entity;
  std::unique_ptr<Tunnel> tunnel = std::move(entity.tunnel);
  if (tunnel == nullptr) {
    entity.set_error(502);  // a 101 with nothing to switch to: a store's mistake
    co_await write_response(false, false);
    co_return false;
  }
  std::string head = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n";
  for (const auto& [name, value] : entity.headers.fields()) {
    head += name;
    head += ": ";
    head += value;
    head += "\r\n";
  }
  head += "\r\n";
  phase_ = Phase::writing;
  if (!co_await send_bytes(head, false)) {
    co_return false;
  }
  log_access(0);
  // From here the bytes are the tunnel's; its own idle timeout bounds it, not ours.
  phase_ = Phase::processing;
  const std::string_view already_read = buffered();
  start_ = end_;
  co_await tunnel->relay(*transport_, already_read);
  co_return false;
}

Task<bool> Connection::write_response(bool head_request, bool keep_alive) {
  phase_ = Phase::writing;
  if (keep_alive && !no_delay_) {
    // Only a connection that stays open needs Nagle off: the last reply of a closing one is
    // flushed by the FIN anyway, and a one-request connection skips the syscall.
    asio::error_code ec;
    socket_.set_option(asio::ip::tcp::no_delay(true), ec);
    no_delay_ = true;
  }
  if (context_.score != nullptr) {
    context_.score->begin_request(state_->head.request_line);
  }
  state_->entity.add_request_id(state_->request.id_text());
  const BodyFraming framing =
      choose_framing(state_->entity, head_request, state_->head.version_minor);
  state_->out.clear();
  append_response_head(state_->entity, framing, keep_alive, state_->head.version_minor,
                       state_->out);
  std::uint64_t body_bytes = 0;
  bool ok = true;
  bool complete = true;  // the whole body went out as framed (else the connection must close)
  Entity& entity = state_->entity;
  if (framing == BodyFraming::none) {
    entity.stream.reset();  // HEAD, 304: nobody wants what a producer would make
  } else {
    ok = co_await write_part(entity.body, framing, entity.stream == nullptr, body_bytes);
    while (ok && entity.stream != nullptr) {
      // Pull the next part only once this one is written: a slow client slows the producer.
      entity.body.clear();
      phase_ = Phase::processing;
      const StreamStatus status =
          co_await entity.stream->next(entity.body, entity.stream_part_limit);
      phase_ = Phase::writing;
      if (status != StreamStatus::more) {
        entity.stream.reset();
      }
      if (status == StreamStatus::failed) {
        complete = false;
        break;
      }
      ok = co_await write_part(entity.body, framing, status == StreamStatus::end, body_bytes);
    }
    if (entity.length && body_bytes != *entity.length) {
      COLLAGE_LOG(LogLevel::warn, "COL-HTTP1-0007",
                  "{}:{}: {} body of {} made {} bytes, not the {} promised; closing", peer_.address,
                  peer_.port, printable(state_->request.path),
                  body_bytes < *entity.length ? "the" : "the streamed", body_bytes, *entity.length);
      complete = false;
    }
    if (framing == BodyFraming::chunked && complete) {
      state_->out += "0\r\n\r\n";
    }
  }
  if (ok && !state_->out.empty()) {
    ok = co_await send_bytes(state_->out, false);
  }
  log_access(framing == BodyFraming::none ? 0 : body_bytes);
  if (context_.score != nullptr) {
    context_.score->finish_request(body_bytes);
  }
  // The response is out: let go of its file and memory now, not when the next request comes
  // (an idle keep-alive connection must not hold an open file).
  state_->entity.body.clear();
  state_->entity.stream.reset();
  // A body cut short cannot be framed as complete: closing is the only honest end (RFC 9112 §8).
  co_return ok&& complete;
}

Task<bool> Connection::write_part(const Brigade& part, BodyFraming framing, bool last,
                                  std::uint64_t& body_bytes) {
  const auto& buckets = part.buckets();
  const std::uint64_t size = part.size();
  if (size == 0) {
    co_return true;
  }
  std::uint64_t allowed = size;
  if (const auto& length = state_->entity.length;
      length && framing == BodyFraming::content_length) {
    // Never more than Content-Length promised; write_response notices the excess.
    allowed = body_bytes >= *length ? 0 : std::min(size, *length - body_bytes);
  }
  if (framing == BodyFraming::chunked) {
    state_->out += fmt::format("{:x}\r\n", size);
  }
  bool ok = true;
  std::uint64_t written = 0;
  for (std::size_t i = 0; i < buckets.size() && ok && written < allowed; ++i) {
    Bucket bucket = buckets[i];
    if (bucket.size() > allowed - written) {
      bucket = part.slice(written, allowed - written).buckets().front();
    }
    // The last bytes of a part are not corked unless more of the response follows at once.
    const bool final_bytes = last && framing != BodyFraming::chunked && i + 1 == buckets.size();
    if (bucket.kind == Bucket::Kind::memory) {
      if (state_->out.size() + bucket.bytes.size() <= kCoalesceLimit) {
        state_->out += bucket.bytes;
      } else {
        ok = co_await send_bytes(state_->out, true) &&
             co_await send_bytes(bucket.bytes, !final_bytes);
        state_->out.clear();
      }
    } else {
      ok = (state_->out.empty() || co_await send_bytes(state_->out, true)) &&
           co_await send_file(bucket);
      state_->out.clear();
    }
    written += bucket.size();
  }
  body_bytes += size;
  if (framing == BodyFraming::chunked) {
    state_->out += "\r\n";
  }
  if (ok && !last && !state_->out.empty()) {
    // More is coming, but not at once: what a part ends with goes out now.
    ok = co_await send_bytes(state_->out, false);
    state_->out.clear();
  }
  co_return ok;
}

Task<bool> Connection::send_bytes(std::string_view data, bool more) {
  const WireResult result = co_await transport_->write(data, more);
  co_return result == WireResult::ok;
}

Task<bool> Connection::send_file(const Bucket& bucket) {
  const WireResult result = co_await transport_->write_file(bucket);
  if (result == WireResult::truncated) {
    // The file shrank under us; the promised length can no longer be met.
    COLLAGE_LOG(LogLevel::warn, "COL-HTTP1-0006", "{}:{}: file truncated while sending {}",
                peer_.address, peer_.port, printable(state_->request.path));
  }
  co_return result == WireResult::ok;
}

Task<void> Connection::linger_close() {
  // Half-close and read what the client still sends for a moment, so our last response is not
  // destroyed by a TCP reset caused by unread data (RFC 9112 §9.6).
  transport_->shutdown_send();
  asio::error_code ec;
  phase_ = Phase::writing;
  watchdog_.set_deadline(Clock::now() + std::chrono::seconds(2));
  char sink[4096];
  for (int i = 0; i < 64 && !ec; ++i) {
    auto [read_ec, n] = co_await transport_->read_some(asio::buffer(sink));
    if (read_ec || n == 0) {
      break;
    }
  }
  socket_.close(ec);
}

void Connection::log_access(std::uint64_t body_bytes) {
  if (!context_.generation->logs_requests()) {
    if (context_.generation->counts_requests()) {
      // The quick path's answers are told apart by their Cache-Status alone.
      const bool routed = state_->request.routed_location != nullptr;
      context_.generation->count_request(AccessRecord{
          .status = state_->entity.status,
          .bytes = body_bytes,
          .cache_status = routed ? std::string_view() : state_->entity.headers.get("Cache-Status"),
          .protocol = "http1",
          .request = &state_->request});
    }
    return;
  }
  context_.generation->log_request(
      AccessRecord{.client = state_->request.peer->address,
                   .user = state_->request.user,
                   .request_line = state_->head.request_line,
                   .status = state_->entity.status,
                   .bytes = body_bytes,
                   .referer = state_->request.headers.get("Referer"),
                   .user_agent = state_->request.headers.get("User-Agent"),
                   .cache_status = state_->entity.headers.get("Cache-Status"),
                   .protocol = "http1",
                   .request = &state_->request,
                   .tls_version = transport_->tls_version()});
}

}  // namespace collage::http1
