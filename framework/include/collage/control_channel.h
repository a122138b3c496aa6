#pragma once
// The channel between a child and its control process, for the admin API: the control process
// listens on an abstract Unix socket that only its own children may use (it checks each
// caller's pid); each call is one connection carrying one framed request and one framed reply
// (a 4-byte big-endian length, then the bytes).

#include <chrono>
#include <optional>
#include <string>

#include "collage/asio.h"

namespace collage {

// The abstract socket's name (without the leading NUL), set by the control process before it
// starts children; empty when there is none (collage -X runs, unit tests).
void set_control_channel_name(std::string name);
const std::string& control_channel_name();

// From a child: sends request and waits up to timeout for the reply; nullopt (logged) when the
// control process cannot be reached or does not answer.
Task<std::optional<std::string>> ask_control_process(std::string request,
                                                     std::chrono::milliseconds timeout);

// Largest message either way: a configuration with its includes fits many times over.
inline constexpr std::size_t kMaxControlMessage = 16 * 1024 * 1024;

}  // namespace collage
