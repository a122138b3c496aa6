#include "upstream.h"

namespace collage::fastcgi {

UpstreamConnection::UpstreamConnection(const asio::any_io_executor& executor,
                                       std::shared_ptr<gateway::ConnectionPool> pool,
                                       std::chrono::milliseconds read_timeout)
    : socket_(executor, std::move(pool), read_timeout) {}

Task<bool> UpstreamConnection::open(const gateway::UpstreamAddress& address,
                                    std::chrono::milliseconds connect_timeout, bool may_reuse,
                                    bool& reused, std::string& error) {
  return socket_.open(address, connect_timeout, may_reuse, reused, error);
}

Task<bool> UpstreamConnection::write(std::string_view bytes, std::string& error) {
  return socket_.write(bytes, error);
}

Task<gateway::UpstreamRead> UpstreamConnection::next(Record& record) {
  for (;;) {
    std::size_t size = 0;
    switch (parse_record(std::string_view(buffer_).substr(consumed_), record, size)) {
      case ParseResult::record: consumed_ += size; co_return gateway::UpstreamRead::data;
      case ParseResult::bad_version: co_return gateway::UpstreamRead::failed;
      case ParseResult::need_more: break;
    }
    // Keep only the partial record, then read more after it.
    buffer_.erase(0, consumed_);
    consumed_ = 0;
    const gateway::UpstreamRead read = co_await socket_.read_more(buffer_, 64 * 1024);
    if (read != gateway::UpstreamRead::data) {
      co_return read;
    }
  }
}

void UpstreamConnection::release_to_pool() {
  if (consumed_ != buffer_.size()) {
    return;  // bytes after END_REQUEST: not a connection to trust with another request
  }
  socket_.release_to_pool();
}

}  // namespace collage::fastcgi
