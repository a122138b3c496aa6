#pragma once
// The target of a redirect or rewrite, and the test string of a condition, parsed once at load:
// literal text with $1..$9 (the rule's groups), %1..%9 (the last matched condition's groups),
// %{NAME} variables as in Apache's mod_rewrite, and nginx's $uri, $args, $request_uri, $host,
// $scheme. A backslash keeps the next character literal (\$, \%).

#include <string>
#include <string_view>
#include <vector>

#include "collage/request.h"
#include "pattern.h"

namespace collage {
struct Location;
}

namespace collage::rewrite {

// What a template is expanded against.
struct ExpandInput {
  const Request& request;
  const Location& location;
  const Captures* rule = nullptr;       // $N
  const Captures* condition = nullptr;  // %N
  bool condition_decoded = false;       // %N came from a decoded path (so it is re-encoded)
};

class UrlTemplate {
 public:
  // Parses text; false with error set for an unknown variable or a dangling escape. Without
  // `condition_groups` (a target no condition precedes), %N is literal text, so a target may
  // hold percent-encoding such as %20 as it is.
  bool parse(std::string_view text, std::string& error, bool condition_groups = true);
  // Appends the expansion to out. With `for_url`, text that came from a decoded path ($N of a
  // rule, $uri, %{REQUEST_URI}) is percent-encoded again, so the result is a URL.
  void expand(const ExpandInput& input, bool for_url, std::string& out) const;
  const std::string& text() const { return text_; }
  bool empty() const { return parts_.empty(); }
  // True when the template is exactly %{REQUEST_FILENAME}.
  bool is_request_filename() const;

  enum class Kind : std::uint8_t {
    literal,
    rule_group,       // $N
    condition_group,  // %N
    header,           // %{HTTP:Name}, %{HTTP_HOST}, …
    host,             // $host: the request's host, without port
    http_host,        // %{HTTP_HOST}: the Host field (or HTTP/2's :authority) as sent
    path,             // %{REQUEST_URI}, $uri (decoded)
    query,            // %{QUERY_STRING}, $args
    request_uri,      // $request_uri: the target as the client sent it
    method,
    scheme,  // http or https
    https,   // on or off
    remote_addr,
    server_port,
    request_filename,
  };
  struct Part {
    Kind kind;
    std::string text;  // literal text or header name
    int group = 0;
  };

 private:
  std::vector<Part> parts_;
  std::string text_;
};

// Percent-encodes what may not stand in a URL as it is (space, %, ?, #, controls, non-ASCII…).
void append_url_encoded(std::string_view text, std::string& out);

}  // namespace collage::rewrite
