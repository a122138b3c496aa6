#include "command_line.h"

#include <string_view>

namespace collage {

const char* usage_text() {
  return "Usage: collage [-f FILE] [-D NAME=VALUE]... [-t | -l | -L | -V | -h]\n"
         "  -f FILE         configuration file (default /etc/collage/collage.xml)\n"
         "  -D NAME=VALUE   define ${NAME} for the configuration (wins over the environment\n"
         "                  and <Define>); -D NAME alone defines it as 1\n"
         "  -t              check the configuration and exit: file:line: message per error\n"
         "  -l              list the compiled-in modules\n"
         "  -L              print the directive reference (Markdown) from the registry\n"
         "  -V              print version and build settings\n"
         "  -h              this help\n";
}

CommandLine parse_command_line(int argc, char** argv) {
  CommandLine cl;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&](std::string_view flag) -> const char* {
      if (i + 1 >= argc) {
        cl.error = std::string(flag) + " needs a value";
        return nullptr;
      }
      return argv[++i];
    };
    if (arg == "-f") {
      if (const char* v = value(arg)) {
        cl.config_file = v;
      }
    } else if (arg == "-D") {
      if (const char* v = value(arg)) {
        const std::string_view define = v;
        const std::size_t equals = define.find('=');
        if (equals == 0) {
          cl.error = "-D needs NAME=VALUE";
        } else if (equals == std::string_view::npos) {
          cl.defines[std::string(define)] = "1";
        } else {
          cl.defines[std::string(define.substr(0, equals))] =
              std::string(define.substr(equals + 1));
        }
      }
    } else if (arg == "-t") {
      cl.action = CommandLine::Action::check;
    } else if (arg == "-l") {
      cl.action = CommandLine::Action::list_modules;
    } else if (arg == "-L") {
      cl.action = CommandLine::Action::directives_markdown;
    } else if (arg == "-V" || arg == "-v") {
      cl.action = CommandLine::Action::version;
    } else if (arg == "-h" || arg == "--help") {
      cl.action = CommandLine::Action::help;
    } else {
      cl.error = "unknown option " + std::string(arg);
    }
    if (!cl.error.empty()) {
      break;
    }
  }
  return cl;
}

}  // namespace collage
