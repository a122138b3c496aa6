#pragma once
// The connection to an application server (php-fpm, fcgiwrap, any FastCGI responder) over a Unix
// or TCP socket: connecting with a deadline, reading records with a deadline per read, and a pool
// of idle connections kept open between requests (BEGIN_REQUEST with FCGI_KEEP_CONN).

#include <chrono>
#include <memory>
#include <string>

#include "collage/asio.h"
#include "fastcgi_record.h"
#include "upstream_socket.h"

namespace collage::fastcgi {

using gateway::ConnectionPool;
using gateway::parse_upstream;
using gateway::UpstreamAddress;
using gateway::UpstreamRead;

class UpstreamConnection {
 public:
  UpstreamConnection(const asio::any_io_executor& executor,
                     std::shared_ptr<gateway::ConnectionPool> pool,
                     std::chrono::milliseconds read_timeout);
  UpstreamConnection(const UpstreamConnection&) = delete;
  UpstreamConnection& operator=(const UpstreamConnection&) = delete;

  // Takes an idle connection from the pool (if `may_reuse`), or connects. `reused` tells which.
  Task<bool> open(const gateway::UpstreamAddress& address,
                  std::chrono::milliseconds connect_timeout, bool may_reuse, bool& reused,
                  std::string& error);
  Task<bool> write(std::string_view bytes, std::string& error);
  // The next record (UpstreamRead::data); its content stays valid until the next call.
  Task<gateway::UpstreamRead> next(Record& record);
  // The request ended cleanly: the connection goes back to the pool.
  void release_to_pool();

 private:
  gateway::UpstreamSocket socket_;
  std::string buffer_;
  std::size_t consumed_ = 0;  // bytes of buffer_ that earlier records used
};

}  // namespace collage::fastcgi
