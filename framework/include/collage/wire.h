#pragma once
// Writing to a connection's socket the way every front end needs it: non-blocking sends that wait
// for the socket to drain, and files with sendfile so their bytes never enter user space.
// The socket must be in non-blocking mode (native_non_blocking(true)).

#include <cstdint>
#include <functional>
#include <string_view>

#include "collage/asio.h"
#include "collage/brigade.h"

namespace collage {

enum class WireResult : std::uint8_t {
  ok,
  closed,     // the peer went away or the socket was closed (a timeout, a drain)
  truncated,  // the file ended before the promised length: the response cannot be completed
};

// Called before each wait for the socket to accept more, e.g. to extend a send deadline.
using BeforeWait = std::function<void()>;

// Sends all of data. `more` tells the kernel that further data follows (MSG_MORE), so a response
// head and a small body share packets.
Task<WireResult> wire_send(asio::ip::tcp::socket& socket, std::string_view data, bool more,
                           const BeforeWait& before_wait);

// Sends [offset, offset + length) of the file with sendfile.
Task<WireResult> wire_send_file(asio::ip::tcp::socket& socket, const Bucket& file_bucket,
                                const BeforeWait& before_wait);

}  // namespace collage
