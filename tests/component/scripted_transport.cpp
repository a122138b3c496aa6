#include "scripted_transport.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>

#include "collage/services.h"

namespace collage::testing {

ScriptedTransport::ScriptedTransport(asio::io_context& io, std::deque<std::string> input,
                                     std::shared_ptr<WireRecord> record)
    : socket_(io), input_(std::move(input)), record_(std::move(record)), wrote_(io) {
  asio::error_code ec;
  socket_.open(asio::ip::tcp::v4(), ec);
}

Task<std::pair<asio::error_code, std::size_t>> ScriptedTransport::read_some(
    asio::mutable_buffer into) {
  const int reads = ++record_->reads;
  if (broken() || (fail_read_at != 0 && reads == fail_read_at)) {
    co_return std::pair{asio::error_code(asio::error::connection_reset), std::size_t{0}};
  }
  while (input_.empty() && end_when && !end_when(record_->output) && !write_failed_ && !broken()) {
    wrote_.expires_at(asio::steady_timer::time_point::max());
    co_await wrote_.async_wait(kAsTuple);
  }
  if (input_.empty()) {
    co_return std::pair{end_with_reset ? asio::error_code(asio::error::connection_reset)
                                       : asio::error_code(asio::error::eof),
                        std::size_t{0}};
  }
  std::string& chunk = input_.front();
  const std::size_t n = std::min(chunk.size(), into.size());
  std::memcpy(into.data(), chunk.data(), n);
  chunk.erase(0, n);
  if (chunk.empty()) {
    input_.pop_front();
  }
  co_return std::pair{asio::error_code(), n};
}

Task<asio::error_code> ScriptedTransport::wait_readable() {
  co_return broken() ? asio::error_code(asio::error::bad_descriptor) : asio::error_code();
}

Task<WireResult> ScriptedTransport::write(std::string_view data, bool) {
  const int writes = ++record_->writes;
  if (broken() || send_shut_ || write_failed_ || (fail_write_at != 0 && writes == fail_write_at)) {
    write_failed_ = true;  // a peer that went away stays away
    wrote_.cancel();
    co_return WireResult::closed;
  }
  record_->output += data;
  wrote_.cancel();
  co_return WireResult::ok;
}

Task<WireResult> ScriptedTransport::write_file(const Bucket& b) {
  const int writes = ++record_->writes;
  if (broken() || send_shut_ || write_failed_ || (fail_write_at != 0 && writes == fail_write_at)) {
    write_failed_ = true;
    wrote_.cancel();
    co_return WireResult::closed;
  }
  std::string data(static_cast<std::size_t>(b.length), '\0');
  const ssize_t n = ::pread(b.file->fd(), data.data(), data.size(), static_cast<off_t>(b.offset));
  if (n != static_cast<ssize_t>(data.size())) {
    co_return WireResult::truncated;
  }
  record_->output += data;
  wrote_.cancel();
  co_return WireResult::ok;
}

WireRecord serve_scripted(const std::shared_ptr<const Generation>& generation,
                          std::string_view protocol, std::deque<std::string> input,
                          const Fault& fault) {
  asio::io_context io;
  ConnectionTracker tracker;
  Services services(io.get_executor(), tracker);
  auto record = std::make_shared<WireRecord>();
  auto transport = std::make_unique<ScriptedTransport>(io, std::move(input), record);
  transport->fail_read_at = fault.read_at;
  transport->fail_write_at = fault.write_at;
  transport->end_with_reset = fault.end_with_reset;
  transport->end_when = fault.end_when;
  PeerInfo peer{"192.0.2.1", 40000, "192.0.2.2", 80};
  ConnectionContext context{generation, &generation->listeners().front(), &services, nullptr,
                            &peer};
  bool ended = false;
  asio::co_spawn(
      io,
      [&]() -> Task<void> {
        co_await generation->protocol(protocol)->serve(std::move(transport), context);
        ended = true;
      },
      asio::detached);
  // Scripted input never waits on a clock, so the connection ends within this bound or hangs.
  io.run_for(fault.bound);
  record->ended = ended;
  return *record;
}

std::string pattern(std::size_t n) {
  std::string out(n, '\0');
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = static_cast<char>('a' + i % 26);
  }
  return out;
}

}  // namespace collage::testing
