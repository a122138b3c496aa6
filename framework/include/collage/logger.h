#pragma once
// The log phase: once a response has gone out (or was cut off), its front end hands one record
// to every request logger of the generation, so every protocol is logged the same way. Loggers
// are modules (ModuleKind::logger); the access log in Combined Log Format is the built-in one.

#include <functional>
#include <memory>
#include <string>

#include "collage/directive.h"
#include "collage/log.h"

namespace collage {

class RequestLogger {
 public:
  virtual ~RequestLogger() = default;
  // Called on the connection's thread, from any thread of a child at once; must not block for
  // long (buffer, and write in flush()). The record's views are valid only during the call.
  virtual void log(const AccessRecord& record) = 0;
  // Called about once a second and when the child ends.
  virtual void flush() {}
  // Opens what the logger writes to, after the configuration is checked; false with error set.
  virtual bool open(std::string& error) {
    (void)error;
    return true;
  }
};

// Built once per generation from the server scope; null when the configuration turns it off.
using LoggerFactory =
    std::function<std::unique_ptr<RequestLogger>(const Scope& server, ConfigErrors& errors)>;

}  // namespace collage
