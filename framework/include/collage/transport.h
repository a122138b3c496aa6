#pragma once
// A connection's byte stream as front ends see it: plain TCP, or TLS on top of it. Front ends
// read and write through this so the same protocol code serves http:// and https://, ftp and
// ftps. All calls happen on the connection's executor; reads and writes may suspend.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

#include "collage/asio.h"
#include "collage/brigade.h"
#include "collage/request.h"
#include "collage/wire.h"

namespace collage {

class Services;

class Transport {
 public:
  virtual ~Transport() = default;

  // The TCP socket underneath (endpoints, options, closing on a timeout).
  virtual asio::ip::tcp::socket& socket() = 0;
  // Both ends of the connection, as requests report them.
  PeerInfo peer_info();

  // Reads what is available (at least one byte); n == 0 or an error means the stream ended.
  virtual Task<std::pair<asio::error_code, std::size_t>> read_some(asio::mutable_buffer into) = 0;
  // Suspends until read_some() would not block. Lets an idle connection wait without a buffer.
  virtual Task<asio::error_code> wait_readable() = 0;
  // Reads what is already there, never waiting: the bytes read, 0 at the end of the stream (or
  // an error), nullopt when nothing is there yet or the transport cannot tell without waiting.
  // Lets a new connection read into a borrowed buffer and keep none while it stays silent.
  virtual std::optional<std::size_t> read_now(asio::mutable_buffer) { return std::nullopt; }
  // Writes all of data; `more` hints that more follows at once (MSG_MORE on TCP).
  virtual Task<WireResult> write(std::string_view data, bool more) = 0;
  // Writes a file range: sendfile on TCP, read-and-encrypt on TLS.
  virtual Task<WireResult> write_file(const Bucket& file_bucket) = 0;
  // Called before each wait for the peer to accept more data (to extend a send deadline).
  void set_before_write_wait(BeforeWait hook) { before_wait_ = std::move(hook); }
  // Where reads of files that are not in the page cache may go instead of this thread
  // (file_read.h); null: read in place.
  void set_services(Services* services) { services_ = services; }

  // Sends bytes now if the socket takes them, never waiting (a last word before closing).
  // Does nothing where that is impossible (TLS).
  virtual void try_send_now(std::string_view data) = 0;
  // Stops sending (TCP half-close; TLS close_notify is best effort) but keeps reading.
  virtual void shutdown_send() = 0;
  void close() {
    asio::error_code ec;
    socket().close(ec);
  }
  // Ends the stream so the peer receives everything sent: TLS close_notify where TLS is used,
  // a half-close, then reading until the peer closes (bounded by timeout), then closing. A plain
  // close with unread input would make the kernel reset the connection and drop unsent data.
  virtual Task<void> close_gracefully(std::chrono::milliseconds timeout);

  // "h2", "http/1.1" … as negotiated by ALPN; empty for plain TCP or no ALPN.
  virtual std::string_view negotiated_protocol() const { return {}; }
  virtual bool secure() const { return false; }
  // The TLS server name the client asked for (SNI), lower-case; empty when none.
  virtual std::string_view server_name() const { return {}; }
  // "TLSv1.3", "TLSv1.2" …; empty for plain TCP.
  virtual std::string_view tls_version() const { return {}; }

 protected:
  BeforeWait before_wait_ = [] {};
  Services* services_ = nullptr;
};

// Plain TCP. Puts the socket in non-blocking mode; writes use send() and sendfile() directly.
std::unique_ptr<Transport> make_tcp_transport(asio::ip::tcp::socket socket);

}  // namespace collage
