#pragma once
// The control process: owns the listening sockets, the scoreboard and the children. It forks
// the MPM's children, replaces those that die, keeps the spare pool within bounds, and turns
// signals into restarts and stops the way httpd does:
//   SIGTERM, SIGINT  stop now            SIGWINCH  graceful stop (GracefulShutdownTimeout)
//   SIGHUP           restart             SIGUSR1   graceful restart (running work finishes)
// A restart re-reads the configuration; if it does not load, nothing changes but the log.

#include <functional>
#include <memory>

#include "collage/generation.h"
#include "collage/mpm.h"
#include "collage/server.h"

namespace collage::control {

// Loads the configuration afresh; null after logging why.
using Reloader = std::function<std::shared_ptr<Generation>()>;
// Builds the MPM the generation names; null after logging why.
using MpmMaker = std::function<std::unique_ptr<Mpm>(const Generation&)>;

// Serves until stopped and returns the exit status. `server` has its listeners bound already.
int run_control_process(std::unique_ptr<Server> server, std::unique_ptr<Mpm> mpm, Reloader reload,
                        MpmMaker make_mpm);

}  // namespace collage::control
