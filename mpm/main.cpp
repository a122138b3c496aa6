// The collage binary: a thin composition root. It registers the compiled-in modules, loads and
// checks the configuration, binds the listeners and hands over to the configured MPM.

#include <fmt/format.h>
#include <asio/version.hpp>
#include <csignal>
#include <cstdio>

#include "collage/config.h"
#include "collage/generation.h"
#include "collage/log.h"
#include "collage/registry.h"
#include "collage/server.h"
#include "command_line.h"
#include "directive_reference.h"

namespace {

using collage::CommandLine;

std::shared_ptr<collage::Generation> load(const CommandLine& cl,
                                          const collage::Registry& registry) {
  collage::ConfigErrors errors;
  collage::LoadOptions options;
  options.defines = cl.defines;
  auto config = collage::load_config_file(cl.config_file, registry.directives(), options, errors);
  std::shared_ptr<collage::Generation> generation;
  if (config) {
    generation = collage::Generation::build(std::move(config), registry, errors);
  }
  for (const std::string& message : errors.messages()) {
    std::fprintf(stderr, "%s\n", message.c_str());
  }
  return generation;
}

void print_version() {
  fmt::print("collage {}\n", COLLAGE_VERSION);
  fmt::print("built with: {} {}, C++ {}, Asio {}.{}.{}, build type {}\n", COLLAGE_COMPILER_ID,
             COLLAGE_COMPILER_VERSION, __cplusplus, ASIO_VERSION / 100000,
             ASIO_VERSION / 100 % 1000, ASIO_VERSION % 100, COLLAGE_BUILD_TYPE);
}

}  // namespace

int main(int argc, char** argv) {
  const CommandLine cl = collage::parse_command_line(argc, argv);
  if (!cl.error.empty()) {
    std::fprintf(stderr, "collage: %s\n%s", cl.error.c_str(), collage::usage_text());
    return 2;
  }
  collage::Registry registry;
  collage::register_builtin_modules(registry);

  switch (cl.action) {
    case CommandLine::Action::help: std::fputs(collage::usage_text(), stdout); return 0;
    case CommandLine::Action::version: print_version(); return 0;
    case CommandLine::Action::list_modules:
      fmt::print("Compiled-in modules:\n");
      for (const collage::ModuleInfo& m : registry.modules()) {
        fmt::print("  {:<10} {:<9} {}\n", m.name, collage::module_kind_name(m.kind), m.summary);
      }
      return 0;
    case CommandLine::Action::directives_markdown:
      fmt::print("{}", collage::directive_reference_markdown(registry));
      return 0;
    case CommandLine::Action::check: {
      const auto generation = load(cl, registry);
      if (!generation) {
        return 1;
      }
      std::fprintf(stderr, "Syntax OK\n");
      return 0;
    }
    case CommandLine::Action::serve: break;
  }

  auto generation = load(cl, registry);
  if (!generation) {
    return 1;
  }
  const collage::Scope& scope = generation->server_scope();
  std::string error;
  collage::LogLevel level = collage::LogLevel::info;
  collage::parse_log_level(scope.text("LogLevel"), level);
  collage::error_log().set_level(level);
  if (!collage::error_log().open(scope.text("ErrorLog"), error) || !generation->open_logs(error)) {
    std::fprintf(stderr, "collage: %s\n", error.c_str());
    return 1;
  }
  // sendfile() to a reset connection raises SIGPIPE; errors come back as EPIPE instead.
  std::signal(SIGPIPE, SIG_IGN);

  collage::Server server(generation);
  if (!server.bind_listeners()) {
    return 1;
  }
  collage::ConfigErrors errors;
  auto mpm = (*registry.mpm(generation->mpm_name()))(scope, errors);
  return mpm->run(server);
}
