#include "access_logger.h"

#include "collage/core_settings.h"

namespace collage {
namespace {

class CombinedLogger final : public RequestLogger {
 public:
  CombinedLogger(std::string path, bool cache_field)
      : path_(std::move(path)), cache_field_(cache_field) {}
  void log(const AccessRecord& record) override { append_access_line(log_, record, cache_field_); }
  void flush() override { log_.flush(); }
  bool open(std::string& error) override { return log_.open(path_, error); }

 private:
  std::string path_;
  bool cache_field_;
  AccessLog log_;
};

}  // namespace

std::unique_ptr<RequestLogger> make_access_logger(const Scope& server, ConfigErrors&) {
  const ServerSettings& settings = server_settings(server);
  if (settings.access_log == "off") {
    return nullptr;
  }
  return std::make_unique<CombinedLogger>(settings.access_log,
                                          settings.access_log_format == "cache");
}

}  // namespace collage
