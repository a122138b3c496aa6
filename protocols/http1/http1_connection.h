#pragma once
// One HTTP/1.1 connection: reads requests, hands them to the middle end, writes responses in
// order. Runs as one coroutine plus a watchdog that enforces the current phase's deadline.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "collage/asio.h"
#include "collage/entity.h"
#include "collage/middle_end.h"
#include "collage/protocol.h"
#include "collage/request.h"
#include "collage/scoreboard.h"
#include "collage/services.h"
#include "collage/transport.h"
#include "collage/watchdog.h"
#include "http1_body.h"
#include "http1_parser.h"
#include "http1_response.h"
#include "http1_settings.h"

namespace collage::http1 {

class Connection final : public TrackedConnection {
 public:
  Connection(std::unique_ptr<Transport> transport, ConnectionContext context,
             const Settings& settings);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Serves the connection until it closes, or until it is to be handed to HTTP/2.
  Task<void> run();
  // Set when the connection continues as HTTP/2 (h2c); null otherwise.
  const std::unique_ptr<Handover>& handover() const { return handover_; }
  std::unique_ptr<Transport> release_transport() { return std::move(transport_); }
  void drain() override;

 private:
  friend class Body;
  enum class Phase : std::uint8_t { idle, reading_head, reading_body, processing, writing };
  using Clock = Watchdog::Clock;

  Task<void> session();
  // Called when the watchdog's deadline passed; true when the connection was closed.
  bool on_deadline();
  void on_timeout();

  // Reads more bytes into the input buffer. False when the peer closed, an error occurred or
  // the deadline passed.
  Task<bool> fill();
  // 0: a complete head of `head_length` bytes is buffered; -1: close quietly; ≥ 400: answer that.
  Task<int> read_head(std::size_t& head_length);
  // Serves one request whose head is buffered. Returns whether to keep the connection open.
  Task<bool> serve_request(std::size_t head_length);
  Task<bool> send_error(int status, std::string_view reason);
  // Answers 101 and prepares the handover if the request asks for h2c; true if it did.
  Task<bool> upgrade_to_h2c(bool has_body);
  // A store switched protocols (101 with a tunnel): the head, then the connection is the
  // tunnel's until it ends. Returns false: the connection is not reused.
  Task<bool> switch_protocols();
  bool can_hand_over() const;
  Task<bool> write_response(bool head_request, bool keep_alive);
  // Writes one part of the body (the ready brigade or a streamed part) with the framing.
  Task<bool> write_part(const Brigade& part, BodyFraming framing, bool last,
                        std::uint64_t& body_bytes);
  Task<bool> send_bytes(std::string_view data, bool more);
  Task<bool> send_file(const Bucket& bucket);
  Task<void> linger_close();
  void log_access(std::uint64_t body_bytes);
  void set_score_state(WorkerState state) {
    if (context_.score != nullptr) {
      context_.score->set_state(state);
    }
  }

  std::string_view buffered() const { return {input_.get() + start_, end_ - start_}; }
  void make_room();
  void release_idle_buffer();

  std::unique_ptr<Transport> transport_;
  asio::ip::tcp::socket& socket_;  // the TCP socket under the transport
  Watchdog watchdog_;
  ConnectionContext context_;
  const Settings& settings_;
  ConnectionTracker::Handle tracker_handle_;

  // Input buffer: [start_, end_) is unread. Released while the connection is idle.
  std::unique_ptr<char[]> input_;
  std::size_t capacity_ = 0;
  std::size_t start_ = 0;
  std::size_t end_ = 0;

  Phase phase_ = Phase::idle;
  bool timed_out_ = false;
  bool draining_ = false;
  bool closed_ = false;
  bool no_delay_ = false;  // TCP_NODELAY set
  std::uint64_t requests_ = 0;

  // Per-request state, borrowed from a per-thread pool while a request is in flight and given
  // back when the connection goes idle: steady-state serving does not allocate, and an idle
  // connection does not carry it (nor the capacity its strings and vectors grew to).
  struct RequestState {
    std::string head_block;
    RequestHead head;
    Request request;
    Entity entity;
    Body body;
    std::string host;
    std::string out;
    PeerInfo real_peer;  // the client behind a trusted proxy (RealIpFrom), when there is one
  };
  void borrow_state();
  void return_state();
  // This thread's spare request states.
  static std::vector<std::unique_ptr<RequestState>>& state_pool();
  static constexpr std::size_t kStatePoolSize = 256;
  static constexpr std::size_t kKeepCapacity = 16 * 1024;
  std::unique_ptr<RequestState> state_;
  PeerInfo peer_;
  std::unique_ptr<Handover> handover_;  // rare: kept out of every connection's footprint
};

}  // namespace collage::http1
