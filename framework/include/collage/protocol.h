#pragma once
// A protocol front end: owns every wire matter of one protocol and speaks to the rest of the
// server only through Request and Entity.

#include <memory>

#include "collage/asio.h"
#include "collage/transport.h"

namespace collage {

class Generation;
struct Listener;
class Services;

struct ConnectionContext {
  std::shared_ptr<const Generation> generation;  // kept alive for the connection's whole life
  const Listener* listener = nullptr;
  Services* services = nullptr;
};

class Protocol {
 public:
  virtual ~Protocol() = default;
  // Serves one accepted connection until it closes. Runs as its own coroutine on the executor
  // the MPM chose for this connection; must not block that thread and must not throw. The
  // transport is plain TCP from an MPM, or TLS when the TLS front end hands a connection over.
  virtual Task<void> serve(std::unique_ptr<Transport> transport,
                           ConnectionContext context) const = 0;
};

}  // namespace collage
