#pragma once
// Running under systemd: readiness and reload notices (Type=notify, through libsystemd's
// sd_notify) and listening sockets passed in by socket activation (LISTEN_FDS). Both are no-ops
// where systemd did not start the server.

#include <string_view>

#include "collage/asio.h"

namespace collage {

// Sends `state` ("READY=1", "RELOADING=1", "STOPPING=1", "STATUS=…") to NOTIFY_SOCKET, if set.
void notify_systemd(std::string_view state);

// A listening socket systemd passed for exactly this address and port, taken out of the set
// (its descriptor, now ours), or -1 when none matches.
int take_activated_socket(const asio::ip::tcp::endpoint& endpoint);
// Closes passed sockets no listener took, with a warning naming each.
void close_unused_activated_sockets();

}  // namespace collage
