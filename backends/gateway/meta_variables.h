#pragma once
// The meta-variables a script receives (RFC 3875 §4.1), the HTTP_* ones for request headers,
// and what Apache and nginx add that scripts rely on (REQUEST_URI, SCRIPT_FILENAME, HTTPS, …).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "collage/middle_end.h"

namespace collage::gateway {

// Where the request landed: the script and what follows it in the URL path.
struct ScriptTarget {
  std::string script_name;  // URL path of the script, e.g. "/cgi-bin/hello.py"
  std::string path_info;    // the rest, e.g. "/extra/part", or empty
  std::string filename;     // the script's absolute file name
  std::string document_root;
};

struct EnvironmentSettings {
  std::string path = "/usr/local/bin:/usr/bin:/bin";  // PATH given to scripts
  std::vector<std::string> set;                       // NAME=value pairs to add
  std::vector<std::string> pass;                      // names copied from the server's own
  bool pass_authorization = false;                    // HTTP_AUTHORIZATION too
};

std::vector<std::string> build_environment(const RequestContext& ctx, const ScriptTarget& target,
                                           const EnvironmentSettings& settings,
                                           std::optional<std::uint64_t> content_length);

// QUERY_STRING for the request: the URL query as sent; a Gopher search's words (raw text) are
// encoded as a form would send them, so a script reads both the same way.
std::string query_string(const Request& request);

// RFC 3875 §4.4: a query without an unencoded '=' is also given as command-line words, split on
// '+' and percent-decoded ("search+words" → {"search", "words"}). Empty otherwise.
std::vector<std::string> search_words(std::string_view query);

}  // namespace collage::gateway
