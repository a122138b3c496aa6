#pragma once
// What the control process hands an MPM: the current generation and its bound listening sockets.

#include <functional>
#include <memory>
#include <vector>

#include "collage/asio.h"
#include "collage/generation.h"
#include "collage/services.h"

namespace collage {

struct BoundListener {
  int fd = -1;  // listening socket, owned by Server
  const Listener* listener = nullptr;
  asio::ip::tcp::endpoint endpoint;  // what was actually bound (port 0 resolved); unset for unix:
};

class Server {
 public:
  explicit Server(std::shared_ptr<const Generation> generation);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  const std::shared_ptr<const Generation>& generation() const { return generation_; }
  // Binds and listens on every configured listener and logs each bound address. Returns false
  // (after logging why) if any fails.
  // Listeners whose address and configured port match one of previous's reuse its socket (a
  // restart keeps accepting on them without a gap, and port 0 keeps its port).
  bool bind_listeners(const Server* previous = nullptr);
  const std::vector<BoundListener>& listeners() const { return bound_; }
  // Closes this process's copies of the listening sockets (a child that stops accepting), so a
  // port that a restart dropped closes once no process holds it any more.
  void close_listeners();
  // Removes the files of unix: listeners (the control process, when the server stops).
  void remove_unix_sockets() const;

  // Starts a coroutine serving an accepted connection with the listener's protocol, on the
  // socket's executor; peer is the client's address as accept() gave it. on_done, if given,
  // runs there once the connection has ended.
  void start_connection(asio::ip::tcp::socket socket, const BoundListener& bound,
                        Services& services, const asio::ip::tcp::endpoint& peer,
                        std::function<void()> on_done = {}) const;

 private:
  bool bind_unix(const Listener& listener, const Server* previous, std::vector<bool>& taken,
                 int backlog);

  std::shared_ptr<const Generation> generation_;
  std::vector<BoundListener> bound_;
};

}  // namespace collage
