#include "scripted_transport.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>

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

}  // namespace collage::testing
