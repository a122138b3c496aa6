#include "collage/services.h"

namespace collage {

ConnectionTracker::Handle ConnectionTracker::add(TrackedConnection* connection) {
  live_.push_front(connection);
  if (draining_) {
    connection->drain();
  }
  return live_.begin();
}

void ConnectionTracker::remove(Handle handle) {
  live_.erase(handle);
}

void ConnectionTracker::drain_all() {
  draining_ = true;
  // drain() may close a connection, whose coroutine then removes itself later, not now.
  for (TrackedConnection* connection : live_) {
    connection->drain();
  }
}

}  // namespace collage
