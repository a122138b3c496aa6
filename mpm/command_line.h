#pragma once
// The httpd-style command line: -f FILE, -k SIGNAL, -t, -M, -l, -L, -V, -h, -D NAME=VALUE.

#include <map>
#include <string>

namespace collage {

struct CommandLine {
  enum class Action {
    serve,
    signal,
    check,
    dump,
    list_modules,
    list_loaded,
    directives_markdown,
    version,
    help
  };
  Action action = Action::serve;
  std::string config_file = "/etc/collage/collage.xml";
  std::map<std::string, std::string> defines;
  std::string signal;  // -k: start, stop, restart, graceful, graceful-stop
  std::string error;   // set when the arguments are wrong
};

CommandLine parse_command_line(int argc, char** argv);
const char* usage_text();

}  // namespace collage
