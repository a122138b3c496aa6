#include "access_logger.h"

#include "collage/core_settings.h"

namespace collage {
namespace {

enum class Format { combined, cache, json };

class AccessLogger final : public RequestLogger {
 public:
  AccessLogger(std::string path, Format format) : path_(std::move(path)), format_(format) {}
  void log(const AccessRecord& record) override {
    if (format_ == Format::json) {
      append_access_json(log_, record);
    } else {
      append_access_line(log_, record, format_ == Format::cache);
    }
  }
  void flush() override { log_.flush(); }
  bool open(std::string& error) override { return log_.open(path_, error); }

 private:
  std::string path_;
  Format format_;
  AccessLog log_;
};

}  // namespace

std::unique_ptr<RequestLogger> make_access_logger(const Scope& server, ConfigErrors&) {
  const ServerSettings& settings = server_settings(server);
  if (settings.access_log == "off") {
    return nullptr;
  }
  const std::string& format = settings.access_log_format;
  return std::make_unique<AccessLogger>(settings.access_log, format == "json" ? Format::json
                                                             : format == "cache"
                                                                 ? Format::cache
                                                                 : Format::combined);
}

}  // namespace collage
