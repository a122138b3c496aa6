#pragma once
// The one place that pulls in Asio for the framework and its modules. Asio is compiled once
// (ASIO_SEPARATE_COMPILATION, see framework/src/asio_impl.cpp), so including this is cheap-ish.

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

namespace collage {

template <typename T = void>
using Task = asio::awaitable<T>;

// Completion token for data-path operations: errors come back as values, never as exceptions.
inline constexpr auto kAsTuple = asio::experimental::as_tuple(asio::use_awaitable);

}  // namespace collage
