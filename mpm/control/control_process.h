#pragma once
// The control process: owns the listening sockets, the scoreboard and the children. It forks
// the MPM's children, replaces those that die, keeps the spare pool within bounds, and turns
// signals into restarts and stops the way httpd does:
//   SIGTERM, SIGINT  stop now            SIGWINCH  graceful stop (GracefulShutdownTimeout)
//   SIGHUP           restart             SIGUSR1   graceful restart (running work finishes)
// A restart re-reads the configuration; if it does not load, nothing changes but the log. The
// admin API's calls from children arrive on the control channel and are answered in its loop.

#include <functional>
#include <memory>

#include "collage/generation.h"
#include "collage/mpm.h"
#include "collage/server.h"
#include "config_admin.h"

namespace collage::control {

// Serves until stopped and returns the exit status. `server` has its listeners bound already;
// loader reads the configuration again for restarts and the admin API (config_admin.h).
int run_control_process(std::unique_ptr<Server> server, std::unique_ptr<Mpm> mpm,
                        const ConfigLoader& loader);

}  // namespace collage::control
