#include "collage/control_channel.h"

#include <array>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include "collage/log.h"

namespace collage {
namespace {

std::string& channel_name() {
  static std::string name;
  return name;
}

std::array<char, 4> length_prefix(std::size_t size) {
  return {static_cast<char>(size >> 24), static_cast<char>(size >> 16),
          static_cast<char>(size >> 8), static_cast<char>(size)};
}

Task<std::optional<std::string>> exchange(asio::local::stream_protocol::socket& socket,
                                          std::string request) {
  const std::string name = std::string(1, '\0') + channel_name();
  auto [connect_error] =
      co_await socket.async_connect(asio::local::stream_protocol::endpoint(name), kAsTuple);
  if (connect_error) {
    COLLAGE_LOG(LogLevel::error, "COL-ADMIN-0001", "cannot reach the control process: {}",
                connect_error.message());
    co_return std::nullopt;
  }
  const std::array<char, 4> prefix = length_prefix(request.size());
  const std::array<asio::const_buffer, 2> out{asio::buffer(prefix), asio::buffer(request)};
  auto [write_error, written] = co_await asio::async_write(socket, out, kAsTuple);
  std::array<unsigned char, 4> head{};
  auto [read_error, got] = write_error
                               ? std::tuple{write_error, std::size_t{0}}
                               : co_await asio::async_read(socket, asio::buffer(head), kAsTuple);
  const std::size_t size =
      std::size_t{head[0]} << 24 | std::size_t{head[1]} << 16 | std::size_t{head[2]} << 8 | head[3];
  if (read_error || size > kMaxControlMessage) {
    COLLAGE_LOG(LogLevel::error, "COL-ADMIN-0002", "the control process did not answer: {}",
                read_error ? read_error.message() : "reply too large");
    co_return std::nullopt;
  }
  std::string reply(size, '\0');
  auto [body_error, body] = co_await asio::async_read(socket, asio::buffer(reply), kAsTuple);
  if (body_error) {
    COLLAGE_LOG(LogLevel::error, "COL-ADMIN-0002", "the control process did not answer: {}",
                body_error.message());
    co_return std::nullopt;
  }
  co_return reply;
}

}  // namespace

void set_control_channel_name(std::string name) {
  channel_name() = std::move(name);
}

const std::string& control_channel_name() {
  return channel_name();
}

Task<std::optional<std::string>> ask_control_process(std::string request,
                                                     std::chrono::milliseconds timeout) {
  using namespace asio::experimental::awaitable_operators;
  if (channel_name().empty()) {
    co_return std::nullopt;
  }
  const auto executor = co_await asio::this_coro::executor;
  asio::local::stream_protocol::socket socket(executor);
  asio::steady_timer timer(executor);
  timer.expires_after(timeout);
  auto outcome = co_await (exchange(socket, std::move(request)) || timer.async_wait(kAsTuple));
  if (outcome.index() == 1) {
    COLLAGE_LOG(LogLevel::error, "COL-ADMIN-0002", "the control process did not answer in {} ms",
                timeout.count());
    co_return std::nullopt;
  }
  co_return std::get<0>(std::move(outcome));
}

}  // namespace collage
