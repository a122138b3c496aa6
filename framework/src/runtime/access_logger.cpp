#include "access_logger.h"

#include "collage/core_settings.h"

namespace collage {
namespace {

class CombinedLogger final : public RequestLogger {
 public:
  explicit CombinedLogger(std::string path) : path_(std::move(path)) {}
  void log(const AccessRecord& record) override { append_access_line(log_, record); }
  void flush() override { log_.flush(); }
  bool open(std::string& error) override { return log_.open(path_, error); }

 private:
  std::string path_;
  AccessLog log_;
};

}  // namespace

std::unique_ptr<RequestLogger> make_access_logger(const Scope& server, ConfigErrors&) {
  const std::string path = server_settings(server).access_log;
  if (path == "off") {
    return nullptr;
  }
  return std::make_unique<CombinedLogger>(path);
}

}  // namespace collage
