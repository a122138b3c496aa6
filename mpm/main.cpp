// The collage binary: a thin composition root. It registers the compiled-in modules, loads the
// ones the configuration names, checks the configuration, binds the listeners and hands over to
// the control process, which runs the chosen MPM's children.

#include <fmt/format.h>
#include <nghttp2/nghttp2.h>
#include <openssl/crypto.h>
#include <openssl/opensslv.h>
#include <tinyxml2.h>

#include <algorithm>
#include <asio/version.hpp>
#include <csignal>
#include <cstdio>

#include "collage/config.h"
#include "collage/core_settings.h"
#include "collage/generation.h"
#include "collage/log.h"
#include "collage/module_loader.h"
#include "collage/registry.h"
#include "collage/server.h"
#include "collage/structure.h"
#include "command_line.h"
#include "control/control_process.h"
#include "control/signal_command.h"
#include "directive_reference.h"
#include "explain.h"
#include "schema.h"

namespace {

using collage::CommandLine;

// Loads the <LoadModule> shared objects not loaded yet, then the configuration. A restart
// calls this again: modules already loaded from the same path stay as they are.
// The <LoadModule>s of the configuration file, loaded into the registry (none when the file
// cannot be read: the full load says so).
// With text, the <LoadModule>s of that candidate (admin API) instead of the file's.
void load_declared_modules(const CommandLine& cl, collage::Registry& registry,
                           collage::ConfigErrors& errors, const std::string* text = nullptr) {
  collage::LoadOptions options;
  options.defines = cl.defines;
  collage::ConfigErrors ignored;  // the full load reports what is wrong with the file
  for (const collage::ModuleToLoad& module :
       text != nullptr ? collage::scan_load_modules_text(*text, cl.config_file, options, ignored)
                       : collage::scan_load_modules(cl.config_file, options, ignored)) {
    bool loaded = false;
    for (const collage::ModuleInfo& known : registry.modules()) {
      loaded = loaded || (known.name == module.name && known.loaded_from == module.path);
    }
    std::string error;
    if (!loaded && !collage::load_module(module, registry, error)) {
      errors.add(module.where, error);
    }
  }
}

// The configuration file, or with text a candidate standing in for it (same name, same
// directory for relative paths).
std::shared_ptr<collage::Generation> load(const CommandLine& cl, collage::Registry& registry,
                                          collage::ConfigErrors& errors,
                                          const std::string* text = nullptr) {
  collage::LoadOptions options;
  options.defines = cl.defines;
  options.keep_going = true;  // every check runs, so -t reports every problem at once
  load_declared_modules(cl, registry, errors, text);
  auto config =
      text != nullptr
          ? collage::load_config_text(*text, cl.config_file, registry.directives(), options, errors)
          : collage::load_config_file(cl.config_file, registry.directives(), options, errors);
  if (!config) {
    return nullptr;
  }
  if (!config->scope->is_set("Mpm")) {
    errors.add(config->scope->where(),
               "no MPM chosen: add <Mpm>event</Mpm> (or worker, or "
               "prefork with its <LoadModule>)");
  }
  auto generation = collage::Generation::build(std::move(config), registry, errors);
  if (generation && !errors.empty()) {
    return nullptr;
  }
  return generation;
}

std::unique_ptr<collage::Mpm> make_mpm(const collage::Generation& generation,
                                       const collage::Registry& registry,
                                       collage::ConfigErrors& errors) {
  const collage::MpmFactory* factory = registry.mpm(generation.mpm_name());
  return factory ? (*factory)(generation.server_scope(), errors) : nullptr;
}

void print_errors(const collage::ConfigErrors& errors) {
  for (const std::string& message : errors.messages()) {
    std::fprintf(stderr, "%s\n", message.c_str());
  }
}

void log_errors(const collage::ConfigErrors& errors) {
  for (const std::string& message : errors.messages()) {
    COLLAGE_LOG(collage::LogLevel::error, "COL-CONTROL-0019", "{}", message);
  }
}

void print_version() {
  fmt::print("collage {}\n", COLLAGE_VERSION);
  fmt::print("built with: {} {}, C++ {}, Asio {}.{}.{}, build type {}\n", COLLAGE_COMPILER_ID,
             COLLAGE_COMPILER_VERSION, __cplusplus, ASIO_VERSION / 100000,
             ASIO_VERSION / 100 % 1000, ASIO_VERSION % 100, COLLAGE_BUILD_TYPE);
  // Compiled against, and running with (shared libraries can be newer than the headers).
  fmt::print(
      "libraries: OpenSSL {} (built with {}), nghttp2 {} (built with {}), tinyxml2 {}.{}.{}, "
      "fmt {}.{}.{}\n",
      OpenSSL_version(OPENSSL_VERSION_STRING), OPENSSL_VERSION_STR, nghttp2_version(0)->version_str,
      NGHTTP2_VERSION, TIXML2_MAJOR_VERSION, TIXML2_MINOR_VERSION, TIXML2_PATCH_VERSION,
      FMT_VERSION / 10000, FMT_VERSION / 100 % 100, FMT_VERSION % 100);
}

void print_modules(const collage::Registry& registry, bool with_origin) {
  // Columns as wide as the longest name and kind, so every row lines up.
  std::size_t name_width = 0;
  std::size_t kind_width = 0;
  for (const collage::ModuleInfo& m : registry.modules()) {
    name_width = std::max(name_width, m.name.size());
    kind_width = std::max(kind_width, collage::module_kind_name(m.kind).size());
  }
  for (const collage::ModuleInfo& m : registry.modules()) {
    fmt::print("  {:<{}}  {:<{}}  {}{}\n", m.name, name_width, collage::module_kind_name(m.kind),
               kind_width, m.summary,
               !with_origin            ? ""
               : m.loaded_from.empty() ? " (static)"
                                       : " (shared: " + m.loaded_from + ")");
  }
}

// Opens the logs, binds the listeners and runs the control process until it stops.
int serve(const CommandLine& cl, collage::Registry& registry,
          std::shared_ptr<collage::Generation> generation, std::unique_ptr<collage::Mpm> mpm,
          bool in_background) {
  const collage::ServerSettings& settings = generation->settings();
  std::string error;
  collage::LogLevel level = collage::LogLevel::info;
  collage::parse_log_level(settings.log_level, level);
  collage::error_log().set_level(level);
  collage::error_log().set_json(settings.error_log_format == "json");
  if (!collage::error_log().open(settings.error_log, error) || !generation->open_logs(error)) {
    std::fprintf(stderr, "collage: %s\n", error.c_str());
    return 1;
  }
  if (in_background) {
    collage::error_log().capture_stderr();
  }
  // sendfile() to a reset connection raises SIGPIPE; errors come back as EPIPE instead.
  std::signal(SIGPIPE, SIG_IGN);

  auto server = std::make_unique<collage::Server>(generation);
  if (!server->bind_listeners()) {
    return 1;
  }
  collage::control::ConfigLoader loader;
  loader.file = cl.config_file;
  loader.directives = &registry.directives();
  loader.reload = [&cl, &registry]() -> std::shared_ptr<collage::Generation> {
    collage::ConfigErrors errors;
    auto next = load(cl, registry, errors);
    log_errors(errors);
    return next;
  };
  loader.load = [&cl, &registry](const std::string& text, collage::ConfigErrors& errors) {
    auto next = load(cl, registry, errors, &text);
    if (next) {
      make_mpm(*next, registry, errors);  // an unknown MPM or a bad MPM directive is an error too
    }
    return errors.empty() ? next : nullptr;
  };
  loader.make_mpm = [&registry](const collage::Generation& next) -> std::unique_ptr<collage::Mpm> {
    collage::ConfigErrors errors;
    auto made = make_mpm(next, registry, errors);
    log_errors(errors);
    return made;
  };
  loader.write_effective = [&registry](const collage::Generation& generation, bool defaults) {
    return collage::write_effective_config(generation.config(), registry.directives(), defaults);
  };
  return collage::control::run_control_process(std::move(server), std::move(mpm), loader);
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
      print_modules(registry, false);
      return 0;
    case CommandLine::Action::directives_markdown:
      fmt::print("{}", collage::directive_reference_markdown(registry));
      return 0;
    case CommandLine::Action::schema: {
      // With -f, the schema covers the modules that file loads too.
      collage::ConfigErrors errors;
      load_declared_modules(cl, registry, errors);
      print_errors(errors);
      if (!errors.empty()) {
        return 1;
      }
      fmt::print("{}", cl.schema == "xsd" ? collage::xml_schema(registry)
                                          : collage::json_schema(registry));
      return 0;
    }
    default: break;
  }

  collage::ConfigErrors errors;
  auto generation = load(cl, registry, errors);
  std::unique_ptr<collage::Mpm> mpm;
  if (generation) {
    mpm = make_mpm(*generation, registry, errors);
  }
  print_errors(errors);
  if (!generation || !mpm) {
    return 1;
  }
  switch (cl.action) {
    case CommandLine::Action::check: std::fprintf(stderr, "Syntax OK\n"); return 0;
    case CommandLine::Action::dump:
      std::fprintf(stderr, "Syntax OK\n");
      fmt::print("{}",
                 collage::write_effective_config(generation->config(), registry.directives()));
      return 0;
    case CommandLine::Action::explain:
      return collage::explain_request(*generation, registry, cl.explain_url, cl.explain_headers,
                                      cl.explain_method);
    case CommandLine::Action::list_loaded:
      fmt::print("Loaded modules (MPM: {}):\n", generation->mpm_name());
      print_modules(registry, true);
      return 0;
    case CommandLine::Action::signal: {
      const collage::ServerSettings& settings = generation->settings();
      return collage::control::run_signal_command(
          cl.signal, collage::process_settings(generation->server_scope()).pid_file,
          settings.graceful_shutdown_timeout, settings.error_log == "stderr",
          [&] { return serve(cl, registry, generation, std::move(mpm), true); });
    }
    default: return serve(cl, registry, std::move(generation), std::move(mpm), false);
  }
}
