#pragma once
// The admin API's requests as the control process answers them (framework/proto/admin.proto):
// read the configuration back, validate a candidate, replace the running configuration (as a
// graceful restart), change a subtree, list the generations and roll back. Requests arrive one
// at a time from the control channel, so replacements never overlap.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "collage/generation.h"
#include "collage/mpm.h"

namespace collage::control {

// How the configuration is loaded, supplied by main() (it owns the registry and the options).
struct ConfigLoader {
  std::string file;  // the configuration file (-f)
  // Loads the configuration file afresh; null after logging why.
  std::function<std::shared_ptr<Generation>()> reload;
  // Loads text as if it were the configuration file; null with errors filled.
  std::function<std::shared_ptr<Generation>(const std::string& text, ConfigErrors& errors)> load;
  // Builds the MPM a generation names; null after logging why.
  std::function<std::unique_ptr<Mpm>(const Generation&)> make_mpm;
  // The effective configuration as XML (collage -T), with every server default or without.
  std::function<std::string(const Generation&, bool defaults)> write_effective;
  const DirectiveRegistry* directives = nullptr;
};

// What the admin requests need from the control process.
class ServingControl {
 public:
  virtual ~ServingControl() = default;
  virtual std::uint32_t serving_generation() const = 0;
  virtual std::shared_ptr<const Generation> serving() const = 0;
  // Makes generation the serving one as a graceful restart; false with why when it cannot
  // (the old one keeps serving).
  virtual bool replace(std::shared_ptr<Generation> generation, std::string& why) = 0;
};

class ConfigAdmin {
 public:
  explicit ConfigAdmin(const ConfigLoader& loader) : loader_(loader) {}

  // The configuration file's text as generation `number` started from it.
  void started(std::uint32_t number, std::string how, std::string by, std::string source,
               std::string comment = {});
  // Reads the configuration file's text for a reload by signal (the generation is numbered
  // once it serves: see started()).
  std::string read_file() const;

  // One request from the control channel, serialized ControlRequest in, ControlReply out.
  std::string handle(const std::string& request, ServingControl& control);

 private:
  struct Ran {
    std::uint32_t number = 0;
    std::int64_t started_ms = 0;
    std::string by;
    std::string how;
    std::string comment;
    std::string source;
  };

  const Ran* find(std::uint32_t number) const;

  const ConfigLoader& loader_;
  std::deque<Ran> history_;  // newest first, at most kKeptGenerations
};

}  // namespace collage::control
