#pragma once
// The httpd-style command line: -f FILE, -t, -l, -L, -V, -h, -D NAME=VALUE.

#include <map>
#include <string>

namespace collage {

struct CommandLine {
  enum class Action { serve, check, list_modules, directives_markdown, version, help };
  Action action = Action::serve;
  std::string config_file = "/etc/collage/collage.xml";
  std::map<std::string, std::string> defines;
  std::string error;  // set when the arguments are wrong
};

CommandLine parse_command_line(int argc, char** argv);
const char* usage_text();

}  // namespace collage
