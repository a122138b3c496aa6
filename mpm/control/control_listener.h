#pragma once
// The control process's end of the control channel (collage/control_channel.h): an abstract
// Unix socket named after the control process, served one call at a time from its loop, so
// replacements of the configuration are serialized by construction.

#include <sys/types.h>

#include <functional>
#include <string>

namespace collage::control {

class ControlListener {
 public:
  ControlListener() = default;
  ~ControlListener();
  ControlListener(const ControlListener&) = delete;
  ControlListener& operator=(const ControlListener&) = delete;

  // Listens on "collage-<pid>-<random>" and publishes the name for children. False if it cannot.
  bool open();
  int fd() const { return fd_; }
  void close();

  // Takes one waiting call: a caller for which is_child(pid) is false is refused; otherwise
  // handle(request) makes the reply. Reading and writing each give up after a few seconds.
  void serve_one(const std::function<bool(pid_t)>& is_child,
                 const std::function<std::string(const std::string&)>& handle);

 private:
  int fd_ = -1;
};

}  // namespace collage::control
