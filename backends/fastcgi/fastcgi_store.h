#pragma once
// The FastCGI store: each request goes to an application server (php-fpm, fcgiwrap) as
// BEGIN_REQUEST, PARAMS (the CGI meta-variables) and STDIN; its STDOUT is a CGI response, read
// and streamed back as the response body; its STDERR goes to the error log.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "collage/store.h"
#include "meta_variables.h"
#include "upstream.h"

namespace collage::fastcgi {

struct FastCgiConfig {
  UpstreamAddress upstream;
  std::string root;         // absolute: SCRIPT_FILENAME is made under it
  bool maps_prefix = true;  // FastCgiRoot maps the location's prefix; DocumentRoot the whole path
  std::vector<std::string> split_extensions;  // ".php": the script ends there, PATH_INFO follows
  std::string index;                          // appended to paths that end in '/'
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds read_timeout{60'000};
  std::size_t keepalive = 0;
  std::string spool_directory = "/tmp";
  gateway::EnvironmentSettings environment;
};

class FastCgiStore final : public Store {
 public:
  explicit FastCgiStore(FastCgiConfig config);

  MethodSet methods() const override;
  Task<void> handle(RequestContext& ctx, Entity& out) const override;

 private:
  gateway::ScriptTarget target_of(const RequestContext& ctx) const;

  FastCgiConfig config_;
  std::shared_ptr<ConnectionPool> pool_;
};

}  // namespace collage::fastcgi
