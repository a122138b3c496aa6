#pragma once
// What each accepted connection counts: accepted and open, by listener and front end, and the
// TLS handshake's result.

#include <cstdint>
#include <string_view>

namespace collage {

struct ConnectionSeries {
  int accepted = -1;
  int open = -1;
  int tls_ok = -1;
  int tls_failed = -1;
  int busy = -1;       // serving a request
  int keepalive = -1;  // waiting for the next request
};

// The series of connections to `address`:`port` served by `protocol`; null outside a running
// server. Resolved once per listener and front end in each process; the TLS counters only for a
// TLS listener.
const ConnectionSeries* connection_series(std::string_view address, std::uint16_t port,
                                          std::string_view protocol, bool tls);

// Adds amount to one counter of this child's row (a no-op for an unresolved series).
void count_connection(int at, std::int64_t amount = 1);

// Keeps a connection counted as open while it lives.
class OpenConnection {
 public:
  OpenConnection() = default;
  OpenConnection(const OpenConnection&) = delete;
  OpenConnection& operator=(const OpenConnection&) = delete;
  ~OpenConnection() { count_connection(open_, -1); }
  void start(const ConnectionSeries* series);

 private:
  int open_ = -1;
};

}  // namespace collage
