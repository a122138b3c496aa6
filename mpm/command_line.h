#pragma once
// The httpd-style command line: -f FILE, -k SIGNAL, -t, -M, -l, -L, -V, -h, -D NAME=VALUE,
// --explain URL and --schema xsd|json.

#include <map>
#include <string>
#include <vector>

namespace collage {

struct CommandLine {
  enum class Action {
    serve,
    signal,
    check,
    dump,
    explain,
    list_modules,
    list_loaded,
    directives_markdown,
    schema,
    version,
    help
  };
  Action action = Action::serve;
  std::string config_file = "/etc/collage/collage.xml";
  std::map<std::string, std::string> defines;
  std::string signal;                        // -k: start, stop, restart, graceful, graceful-stop
  std::string error;                         // set when the arguments are wrong
  std::string explain_url;                   // --explain
  std::vector<std::string> explain_headers;  // --header, for --explain
  std::string explain_method = "GET";        // --method, for --explain
  std::string schema;                        // --schema: xsd or json
};

CommandLine parse_command_line(int argc, char** argv);
const char* usage_text();

}  // namespace collage
