#include "proxy_tunnel.h"

#include <asio/experimental/awaitable_operators.hpp>

#include "collage/log.h"
#include "collage/transport.h"

namespace collage::proxy {
namespace {

constexpr std::size_t kPart = 16 * 1024;

}  // namespace

ProxyTunnel::ProxyTunnel(std::unique_ptr<gateway::UpstreamSocket> upstream,
                         std::string upstream_bytes, std::chrono::milliseconds idle_timeout,
                         std::string upstream_name, std::unique_ptr<InFlight> in_flight)
    : upstream_(std::move(upstream)),
      upstream_bytes_(std::move(upstream_bytes)),
      idle_timeout_(idle_timeout),
      upstream_name_(std::move(upstream_name)),
      in_flight_(std::move(in_flight)) {
  // The tunnel keeps its own idle deadline; the socket's per-operation one would cut a quiet
  // but live WebSocket (reads wait as long as the peer is silent).
  upstream_->set_io_timeout(std::chrono::hours(24 * 365));
}

void ProxyTunnel::touch() {
  if (idle_) {
    idle_->set_deadline(Watchdog::Clock::now() + idle_timeout_);  // later: costs nothing
  }
}

void ProxyTunnel::close_both(Transport& client) {
  if (closed_) {
    return;
  }
  closed_ = true;
  upstream_->close();
  client.close();
}

Task<void> ProxyTunnel::client_to_upstream(Transport& client, std::string already_read) {
  std::string error;
  if (!already_read.empty() && !co_await upstream_->write(already_read, error)) {
    close_both(client);
    co_return;
  }
  to_upstream_ += already_read.size();
  std::string part(kPart, '\0');
  while (!closed_) {
    auto [ec, n] = co_await client.read_some(asio::buffer(part.data(), part.size()));
    if (ec || n == 0) {
      break;
    }
    touch();
    if (!co_await upstream_->write(std::string_view(part.data(), n), error)) {
      break;
    }
    to_upstream_ += n;
  }
  close_both(client);  // one side ended: so does the other direction
}

Task<void> ProxyTunnel::upstream_to_client(Transport& client) {
  std::string buffer = std::move(upstream_bytes_);
  while (!closed_) {
    if (!buffer.empty()) {
      if (co_await client.write(buffer, false) != WireResult::ok) {
        break;
      }
      to_client_ += buffer.size();
      buffer.clear();
    }
    if (co_await upstream_->read_more(buffer, kPart) != gateway::UpstreamRead::data) {
      break;
    }
    touch();
  }
  close_both(client);
}

Task<void> ProxyTunnel::relay(Transport& client, std::string_view already_read) {
  using namespace asio::experimental::awaitable_operators;
  const asio::any_io_executor executor = co_await asio::this_coro::executor;
  idle_.emplace(executor, [this, &client] {
    COLLAGE_LOG(LogLevel::info, "COL-PROXY-0005", "tunnel to {} idle for {} ms: closed",
                upstream_name_, idle_timeout_.count());
    close_both(client);
    return true;
  });
  touch();
  idle_->start();
  co_await (client_to_upstream(client, std::string(already_read)) && upstream_to_client(client));
  idle_->stop();
  COLLAGE_LOG(LogLevel::debug, "COL-PROXY-0006", "tunnel to {} ended: {} bytes up, {} down",
              upstream_name_, to_upstream_, to_client_);
}

}  // namespace collage::proxy
