#pragma once
// Unix-domain listening sockets (Listen address="unix:/path"): made in the control process, so
// the file's mode and owner are set while it still has the rights to set them.

#include <string>

#include "collage/config.h"

namespace collage {

// Binds and listens on listen.unix_path(); a stale socket file (nobody accepts on it) is
// replaced, one a running server still serves is not. Returns the descriptor, or -1 with error.
int bind_unix_listener(const ListenConfig& listen, int backlog, std::string& error);

}  // namespace collage
