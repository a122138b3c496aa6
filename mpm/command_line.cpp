#include "command_line.h"

#include <algorithm>
#include <iterator>
#include <string_view>

namespace collage {

const char* usage_text() {
  return "Usage: collage [-f FILE] [-D NAME=VALUE]... [-k SIGNAL | -t | -T | -M | -l | -L | -V | "
         "-h]\n"
         "       collage [-f FILE] [-D NAME=VALUE]... --explain URL [--header 'Name: value']... "
         "[--method M]\n"
         "  -f FILE         configuration file (default /etc/collage/collage.xml)\n"
         "  -D NAME=VALUE   define ${NAME} for the configuration (wins over the environment\n"
         "                  and <Define>); -D NAME alone defines it as 1\n"
         "  -k start        start in the background (if not running yet)\n"
         "  -k stop|restart|graceful|reload|graceful-stop\n"
         "                  signal the running server named by the PidFile (as httpd -k)\n"
         "  -t              check the configuration and exit: file:line: message per error\n"
         "  -T              check it, then print it as the server reads it (defines expanded,\n"
         "                  values as written), as XML that loads back the same\n"
         "  -M              list the modules the configuration uses (compiled in and loaded)\n"
         "  -l              list the compiled-in modules\n"
         "  -L              print the directive reference (Markdown) from the registry\n"
         "  --schema xsd|json  print an XML Schema or a JSON Schema of the configuration, from\n"
         "                  the registry (with -f, the modules the file loads too)\n"
         "  -V              print version and build settings\n"
         "  -h              this help\n"
         "  --explain URL   run one request for URL through the configuration and print the\n"
         "                  host, location, store and each filter: applied, or left out and why\n";
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
    } else if (arg == "-k") {
      if (const char* v = value(arg)) {
        cl.signal = v;
        static constexpr std::string_view kSignals[] = {"start",    "stop",   "restart",
                                                        "graceful", "reload", "graceful-stop"};
        if (std::find(std::begin(kSignals), std::end(kSignals), cl.signal) == std::end(kSignals)) {
          cl.error = "-k takes start, stop, restart, graceful (or reload) or graceful-stop, not " +
                     cl.signal;
        }
        if (cl.signal == "reload") {
          cl.signal = "graceful";  // systemd's and nginx's word for the same thing
        }
        cl.action = CommandLine::Action::signal;
      }
    } else if (arg == "-M") {
      cl.action = CommandLine::Action::list_loaded;
    } else if (arg == "-t") {
      cl.action = CommandLine::Action::check;
    } else if (arg == "-T") {
      cl.action = CommandLine::Action::dump;
    } else if (arg == "-l") {
      cl.action = CommandLine::Action::list_modules;
    } else if (arg == "-L") {
      cl.action = CommandLine::Action::directives_markdown;
    } else if (arg == "-V" || arg == "-v") {
      cl.action = CommandLine::Action::version;
    } else if (arg == "--explain") {
      if (const char* v = value(arg)) {
        cl.explain_url = v;
        cl.action = CommandLine::Action::explain;
      }
    } else if (arg == "--schema") {
      if (const char* v = value(arg)) {
        cl.schema = v;
        cl.action = CommandLine::Action::schema;
        if (cl.schema != "xsd" && cl.schema != "json") {
          cl.error = "--schema takes xsd or json, not " + cl.schema;
        }
      }
    } else if (arg == "--header") {
      if (const char* v = value(arg)) {
        cl.explain_headers.emplace_back(v);
      }
    } else if (arg == "--method") {
      if (const char* v = value(arg)) {
        cl.explain_method = v;
      }
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
