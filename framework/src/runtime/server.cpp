#include "collage/server.h"

#include "collage/proxy_protocol.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "collage/listen_address.h"
#include "collage/log.h"
#include "collage/request.h"
#include "collage/scoreboard.h"
#include "collage/systemd.h"
#include "collage/unix_listener.h"
#include "connection_metrics.h"

namespace collage {

Server::Server(std::shared_ptr<const Generation> generation) : generation_(std::move(generation)) {}

Server::~Server() {
  close_listeners();
}

void Server::close_listeners() {
  for (BoundListener& b : bound_) {
    if (b.fd >= 0) {
      ::close(b.fd);
      b.fd = -1;
    }
  }
}

bool Server::bind_listeners(const Server* previous) {
  std::vector<bool> taken(previous != nullptr ? previous->bound_.size() : 0, false);
  const int backlog = generation_->settings().listen_backlog;
  for (const Listener& listener : generation_->listeners()) {
    const ListenConfig& config = listener.config;
    std::string error;
    if (config.unix_socket()) {
      if (!bind_unix(listener, previous, taken, backlog)) {
        return false;
      }
      continue;
    }
    const std::vector<std::string> addresses = resolve_listen_address(config.address, error);
    if (addresses.empty()) {
      COLLAGE_LOG(LogLevel::emerg, "COL-CORE-0001", "{}: {}", config.where.str(), error);
      return false;
    }
    // A name may stand for several addresses (localhost: 127.0.0.1 and ::1); all are bound, on
    // one port: a port-0 listener takes the port the kernel gave its first address.
    std::uint16_t port = config.port;
    std::size_t bound_here = 0;
    for (const std::string& text : addresses) {
      asio::error_code ec;
      const asio::ip::address address = asio::ip::make_address(text, ec);
      // Same address, configured port and protocol; several port-0 listeners pair up in order.
      std::size_t reuse = taken.size();
      for (std::size_t i = 0; i < taken.size() && reuse == taken.size(); ++i) {
        const BoundListener& old = previous->bound_[i];
        if (!taken[i] && !old.listener->config.unix_socket() &&
            old.listener->config.address == config.address &&
            old.listener->config.port == config.port && old.endpoint.address() == address &&
            old.listener->config.protocol == config.protocol) {
          reuse = i;
        }
      }
      if (reuse != taken.size()) {
        taken[reuse] = true;
        const BoundListener& old = previous->bound_[reuse];
        bound_.push_back(BoundListener{::dup(old.fd), &listener, old.endpoint});
        port = old.endpoint.port();
        ++bound_here;
        continue;
      }
      asio::ip::tcp::endpoint endpoint(address, port);
      // Socket activation: systemd bound this one already (a port-0 listener cannot match).
      if (const int passed =
              previous == nullptr && port != 0 ? take_activated_socket(endpoint) : -1;
          passed >= 0) {
        ++bound_here;
        bound_.push_back(BoundListener{passed, &listener, endpoint});
        COLLAGE_LOG(LogLevel::notice, "COL-CORE-0003", "listening: {} on {}:{}{} (from systemd)",
                    config.protocol, endpoint.address().to_string(), endpoint.port(),
                    config.tls ? " with TLS" : "");
        continue;
      }
      const int fd = ::socket(endpoint.protocol().family(), SOCK_STREAM | SOCK_CLOEXEC, 0);
      const int one = 1;
      if (fd < 0 || ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
          (address.is_v6() && ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) ||
          ::bind(fd, endpoint.data(), static_cast<socklen_t>(endpoint.size())) != 0 ||
          ::listen(fd, backlog) != 0) {
        const int err = errno;
        if (fd >= 0) {
          ::close(fd);
        }
        // An address a name resolved to that this host cannot use (no IPv6) is passed over.
        if (addresses.size() > 1 && (err == EADDRNOTAVAIL || err == EAFNOSUPPORT)) {
          COLLAGE_LOG(LogLevel::warn, "COL-CORE-0005", "{}: {} ({}) not available here: {}",
                      config.where.str(), config.address, text, std::strerror(err));
          continue;
        }
        COLLAGE_LOG(LogLevel::emerg, "COL-CORE-0002", "{}: cannot listen on {}:{}: {}",
                    config.where.str(), text, port, std::strerror(err));
        return false;
      }
      socklen_t length = static_cast<socklen_t>(endpoint.capacity());
      ::getsockname(fd, endpoint.data(), &length);
      endpoint.resize(length);
      port = endpoint.port();
      ++bound_here;
      bound_.push_back(BoundListener{fd, &listener, endpoint});
      COLLAGE_LOG(LogLevel::notice, "COL-CORE-0003", "listening: {} on {}:{}{}", config.protocol,
                  endpoint.address().to_string(), endpoint.port(), config.tls ? " with TLS" : "");
    }
    if (bound_here == 0) {
      COLLAGE_LOG(LogLevel::emerg, "COL-CORE-0002", "{}: cannot listen on {}: no usable address",
                  config.where.str(), config.address);
      return false;
    }
  }
  if (previous == nullptr) {
    close_unused_activated_sockets();
  }
  return true;
}

bool Server::bind_unix(const Listener& listener, const Server* previous, std::vector<bool>& taken,
                       int backlog) {
  const ListenConfig& config = listener.config;
  for (std::size_t i = 0; i < taken.size(); ++i) {
    const BoundListener& old = previous->bound_[i];
    if (!taken[i] && old.listener->config.address == config.address &&
        old.listener->config.protocol == config.protocol) {
      taken[i] = true;
      bound_.push_back(BoundListener{::dup(old.fd), &listener, old.endpoint});
      return true;
    }
  }
  std::string error;
  const int fd = bind_unix_listener(config, backlog, error);
  if (fd < 0) {
    COLLAGE_LOG(LogLevel::emerg, "COL-CORE-0002", "{}: cannot listen on {}: {}", config.where.str(),
                config.address, error);
    return false;
  }
  bound_.push_back(BoundListener{fd, &listener, {}});
  COLLAGE_LOG(LogLevel::notice, "COL-CORE-0003", "listening: {} on {}{}", config.protocol,
              config.address, config.admin ? " (admin API)" : "");
  return true;
}

void Server::remove_unix_sockets() const {
  for (const BoundListener& b : bound_) {
    if (b.listener->config.unix_socket()) {
      ::unlink(b.listener->config.unix_path().c_str());
    }
  }
}

namespace {

// Runs the TLS handshake where the listener asks for it, lets ALPN pick the front end, then
// hands the connection over.
// Returns a claimed worker slot to its loop's pool once the connection's score is gone.
struct SlotLease {
  Services& services;
  WorkerScore* slot;
  ~SlotLease() { services.release_slot(slot); }
};

// Reads the PROXY header a load balancer sends first (peeking, so not a byte more), and makes
// the client it names the peer. False (logged) when none comes in time or it is malformed.
Task<bool> read_proxy_header(asio::ip::tcp::socket& socket, PeerInfo& peer) {
  using namespace std::chrono_literals;
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  std::array<char, kMaxProxyHeader> buffer;
  asio::steady_timer timer(socket.get_executor());
  for (;;) {
    timer.expires_at(deadline);
    timer.async_wait([&socket](const asio::error_code& ec) {
      if (!ec) {
        asio::error_code ignored;
        socket.cancel(ignored);  // waited too long: the wait below ends with an error
      }
    });
    auto [wait_error] = co_await socket.async_wait(asio::ip::tcp::socket::wait_read, kAsTuple);
    timer.cancel();
    asio::error_code ec;
    const std::size_t n =
        wait_error ? 0 : socket.receive(asio::buffer(buffer), asio::socket_base::message_peek, ec);
    ProxyHeader header;
    std::size_t consumed = 0;
    const ProxyParse parsed =
        n == 0 || ec ? ProxyParse::bad
                     : parse_proxy_header(std::string_view(buffer.data(), n), header, consumed);
    if (parsed == ProxyParse::need_more && std::chrono::steady_clock::now() < deadline) {
      continue;  // the rest of the header is on its way
    }
    if (parsed != ProxyParse::done) {
      COLLAGE_LOG(LogLevel::info, "COL-CORE-0010",
                  "{}:{}: no valid PROXY header on a proxy_protocol listener; closed", peer.address,
                  peer.port);
      co_return false;
    }
    socket.receive(asio::buffer(buffer.data(), consumed), 0, ec);  // now take it off the wire
    if (ec) {
      co_return false;
    }
    if (!header.local) {
      peer.address = header.source_address;
      peer.port = header.source_port;
      peer.local_address = header.destination_address;
      peer.local_port = header.destination_port;
    }
    co_return true;
  }
}

// MaxConnectionsPerAddress: a place for the connection under its client's address and front
// end, held while it lives; refused ones are logged at most once a second per child.
class AddressPlace {
 public:
  AddressPlace(const ConnectionContext& context, const Listener& listener, const PeerInfo& peer)
      : row_(context.services->child_score()) {
    const int most = context.generation->settings().max_connections_per_address;
    if (most <= 0 || listener.config.unix_socket()) {
      return;
    }
    key_ = "conn " + listener.config.protocol + " " + peer.address;
    const ConnectionCap cap{key_, static_cast<std::uint32_t>(most)};
    result_ = acquire_connection(row_, std::span(&cap, 1));
    if (result_ != CapResult::refused) {
      return;
    }
    if (row_ != nullptr) {
      row_->refused.fetch_add(1, std::memory_order_relaxed);
    }
    thread_local std::int64_t said_at = 0;
    if (const std::int64_t now = wall_clock_ms(); now - said_at >= 1000) {
      said_at = now;
      COLLAGE_LOG(
          LogLevel::warn, "COL-CORE-0016",
          "{}: already {} connection(s) to {} from this address (MaxConnectionsPerAddress); "
          "closed",
          peer.address, most, listener.config.protocol);
    }
  }
  ~AddressPlace() {
    if (result_ == CapResult::admitted) {
      const ConnectionCap cap{key_, 0};
      release_connection(row_, std::span(&cap, 1));
    }
  }
  AddressPlace(const AddressPlace&) = delete;
  AddressPlace& operator=(const AddressPlace&) = delete;
  bool refused() const { return result_ == CapResult::refused; }

 private:
  ChildScore* row_;
  std::string key_;
  CapResult result_ = CapResult::uncounted;
};

Task<void> serve_connection(asio::ip::tcp::socket socket, ConnectionContext context,
                            PeerInfo peer) {
  const Listener& listener = *context.listener;
  context.peer = &peer;
  SlotLease lease{*context.services, context.services->claim_slot()};
  ConnectionScore score(context.services->child_score(), lease.slot);
  score.connected();  // the front end names the client once it has asked the socket
  context.score = &score;
  const std::uint16_t bound_port = peer.local_port;  // before a PROXY header names another
  if (listener.config.proxy_protocol && !co_await read_proxy_header(socket, peer)) {
    co_return;
  }
  AddressPlace place(context, listener, peer);
  if (place.refused()) {
    co_return;
  }
  std::unique_ptr<Transport> transport = make_tcp_transport(std::move(socket));
  const Protocol* protocol = listener.protocol;
  // Metrics name front ends as the status page does ("h2" is http2).
  std::string_view protocol_name = listener.config.protocol;
  protocol_name = protocol_name == "h2" ? "http2" : protocol_name;
  OpenConnection open;
  if (listener.config.tls) {
    transport = co_await context.generation->tls()->accept(
        std::move(transport), &listener.alpn_offers, std::chrono::seconds(10));
    if (!transport) {
      if (const ConnectionSeries* series = connection_series(listener.config.address, bound_port,
                                                             protocol_name, listener.config.tls)) {
        count_connection(series->accepted);
        count_connection(series->tls_failed);
      }
      co_return;
    }
    const std::string_view chosen = transport->negotiated_protocol();
    for (std::size_t i = 0; i < listener.alpn_offers.size(); ++i) {
      if (listener.alpn_offers[i] == chosen) {
        protocol = listener.alpn_protocols[i];
        protocol_name = chosen == "h2" ? "http2" : protocol_name;
      }
    }
  }
  if (const ConnectionSeries* series = connection_series(listener.config.address, bound_port,
                                                         protocol_name, listener.config.tls)) {
    open.start(series);
    score.count_states_in(series->busy, series->keepalive);
    if (listener.config.tls) {
      count_connection(series->tls_ok);
    }
  }
  transport->set_services(context.services);
  co_await protocol->serve(std::move(transport), std::move(context));
}

}  // namespace

void Server::start_connection(asio::ip::tcp::socket socket, const BoundListener& bound,
                              Services& services, const asio::ip::tcp::endpoint& peer,
                              std::function<void()> on_done) const {
  const auto executor = socket.get_executor();
  ConnectionContext context{generation_, bound.listener, &services};
  PeerInfo ends;
  ends.listener = bound.listener;
  if (bound.listener->config.unix_socket()) {
    // No addresses on a Unix-domain socket: the client is a local process and its user.
    ends.address = "unix:";
    ends.local_address = bound.listener->config.address;
    ucred credentials{};
    socklen_t length = sizeof credentials;
    if (::getsockopt(socket.native_handle(), SOL_SOCKET, SO_PEERCRED, &credentials, &length) == 0) {
      ends.unix_uid = credentials.uid;
    }
  } else {
    ends.address = peer.address().to_string();
    ends.port = peer.port();
    // A listener bound to one address is the local end; a wildcard one has to ask the socket.
    asio::ip::tcp::endpoint local = bound.endpoint;
    if (local.address().is_unspecified()) {
      asio::error_code ec;
      local = socket.local_endpoint(ec);
    }
    ends.local_address = local.address().to_string();
    ends.local_port = local.port();
  }
  asio::co_spawn(executor, serve_connection(std::move(socket), std::move(context), std::move(ends)),
                 [on_done = std::move(on_done)](std::exception_ptr error) {
                   // Protocol code reports errors as values; reaching here is a bug to see.
                   if (error) {
                     try {
                       std::rethrow_exception(error);
                     } catch (const std::exception& e) {
                       COLLAGE_LOG(LogLevel::crit, "COL-CORE-0004",
                                   "connection ended by an exception: {}", e.what());
                     }
                   }
                   if (on_done) {
                     on_done();
                   }
                 });
}

}  // namespace collage
