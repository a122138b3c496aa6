#pragma once
// The component tier's transport: a connection with no socket traffic. The client's bytes are a
// script of chunks given up front (each read returns at most one chunk); what the front end
// writes is collected. Faults: the Nth read fails (a reset), the Nth write fails (the peer went
// away), or the script ends in a reset instead of a clean end.

#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "collage/generation.h"
#include "collage/transport.h"

namespace collage::testing {

// What happened on the wire; outlives the transport, which the front end destroys at the end.
struct WireRecord {
  std::string output;
  int reads = 0;
  int writes = 0;
  bool ended = false;  // the front end returned within the bound
};

class ScriptedTransport final : public Transport {
 public:
  ScriptedTransport(asio::io_context& io, std::deque<std::string> input,
                    std::shared_ptr<WireRecord> record);

  int fail_read_at = 0;   // 1-based; 0: never
  int fail_write_at = 0;  // 1-based; 0: never
  bool end_with_reset = false;
  // When set, the script's end waits until this holds for what the server wrote (a client that
  // keeps the connection open until it has its answer); a failed write ends the wait.
  std::function<bool(const std::string& output)> end_when;

  asio::ip::tcp::socket& socket() override { return socket_; }
  Task<std::pair<asio::error_code, std::size_t>> read_some(asio::mutable_buffer into) override;
  Task<asio::error_code> wait_readable() override;
  Task<WireResult> write(std::string_view data, bool more) override;
  Task<WireResult> write_file(const Bucket& file_bucket) override;
  void try_send_now(std::string_view data) override { record_->output += data; }
  void shutdown_send() override { send_shut_ = true; }
  Task<void> close_gracefully(std::chrono::milliseconds) override {
    close();
    co_return;
  }

 private:
  bool broken() const { return !socket_.is_open(); }

  asio::ip::tcp::socket socket_;  // opened but never connected: options and close() work
  std::deque<std::string> input_;
  std::shared_ptr<WireRecord> record_;
  asio::steady_timer wrote_;  // cancelled by every write, to wake a read waiting on end_when
  bool send_shut_ = false;
  bool write_failed_ = false;
};

// Scripted faults for serve_scripted().
struct Fault {
  int read_at = 0;   // the Nth read fails with a reset
  int write_at = 0;  // the Nth write fails: the client went away
  bool end_with_reset = false;
  std::function<bool(const std::string& output)> end_when;  // see ScriptedTransport
  std::chrono::milliseconds bound{20'000};                  // how long the connection may take
};

// Serves one scripted connection with the generation's front end `protocol` to its end (or the
// fault's bound; WireRecord::ended says which) and returns what happened on the wire.
WireRecord serve_scripted(const std::shared_ptr<const Generation>& generation,
                          std::string_view protocol, std::deque<std::string> input,
                          const Fault& fault);

// "abc…xyzabc…", n bytes: what the tests' stores stream.
std::string pattern(std::size_t n);

}  // namespace collage::testing
