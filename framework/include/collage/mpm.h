#pragma once
// A multi-processing module decides how processes and threads carry connections. Exactly one runs
// per server. Protocol code never asks which one it is.

#include <memory>

namespace collage {

class Server;

class Mpm {
 public:
  virtual ~Mpm() = default;
  // Serves until told to stop (SIGTERM/SIGINT), with the server's listeners already bound.
  // Returns the process exit status.
  virtual int run(Server& server) = 0;
};

}  // namespace collage
