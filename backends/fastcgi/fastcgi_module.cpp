// The FastCGI store module: its directives and its registration.

#include <climits>
#include <cstdlib>
#include <cstring>

#include "collage/registry.h"
#include "fastcgi_store.h"

namespace collage::fastcgi {
namespace {

struct Written {
  std::optional<std::string> pass;
  std::optional<std::string> fastcgi_root;
  std::optional<std::string> document_root;
  FastCgiConfig config;
  std::uint64_t keepalive = 0;
};

const Directive kDirectives[] = {
    {.name = "FastCgiPass",
     .type = ArgType::string,
     .contexts = kAnyContext,
     .help = "The application server for the fastcgi store: unix:/path/to.sock or host:port "
             "(e.g. unix:/run/php/php8.2-fpm.sock, 127.0.0.1:9000).",
     .field = bind<&Written::pass>()},
    {.name = "FastCgiRoot",
     .type = ArgType::path,
     .contexts = kAnyContext,
     .help = "Directory SCRIPT_FILENAME is made under, with the location's path mapped onto it "
             "(as CgiRoot). Without it, DocumentRoot and the whole URL path.",
     .field = bind<&Written::fastcgi_root>()},
    {.name = "FastCgiSplitExtensions",
     .type = ArgType::list,
     .contexts = kAnyContext,
     .help = "Where a script name ends in the URL path (e.g. .php): what follows is PATH_INFO, "
             "as nginx's fastcgi_split_path_info. Empty: the whole path names the script.",
     .field = bind<&Written::config, &FastCgiConfig::split_extensions>()},
    {.name = "FastCgiIndex",
     .type = ArgType::string,
     .contexts = kAnyContext,
     .help = "Script name appended to paths that end in '/' (e.g. index.php).",
     .field = bind<&Written::config, &FastCgiConfig::index>()},
    {.name = "FastCgiConnectTimeout",
     .type = ArgType::duration,
     .contexts = kAnyContext,
     .default_value = "5s",
     .help = "Longest wait for a connection to the application server (then 502).",
     .min = 1,
     .field = bind<&Written::config, &FastCgiConfig::connect_timeout>()},
    {.name = "FastCgiReadTimeout",
     .type = ArgType::duration,
     .contexts = kAnyContext,
     .default_value = "60s",
     .help = "Longest the application server may go without sending anything (504 before the "
             "header, the response cut off after).",
     .min = 1,
     .field = bind<&Written::config, &FastCgiConfig::read_timeout>()},
    {.name = "FastCgiKeepalive",
     .type = ArgType::integer,
     .contexts = kAnyContext,
     .default_value = "0",
     .help = "Idle connections to the application server each child keeps open for later "
             "requests (0: a new connection per request). php-fpm gives each open connection a "
             "worker of its own: keep children x this below its pm.max_children.",
     .max = 1024,
     .field = bind<&Written::keepalive>()},
    {.name = "FastCgiSpoolDirectory",
     .type = ArgType::path,
     .contexts = kServerContext,
     .default_value = "/tmp",
     .help = "Where chunked request bodies larger than 64 KiB wait (as unnamed files) until their "
             "length is known; bodies of a declared length stream straight through.",
     .field = bind<&Written::config, &FastCgiConfig::spool_directory>()},
    {.name = "FastCgiSetParam",
     .type = ArgType::list,
     .contexts = kAnyContext,
     .help = "Extra parameters for the application, as NAME=value words (nginx's fastcgi_param).",
     .field =
         bind<&Written::config, &FastCgiConfig::environment, &gateway::EnvironmentSettings::set>()},
    {.name = "FastCgiPassAuth",
     .type = ArgType::flag,
     .contexts = kAnyContext,
     .default_value = "off",
     .help = "Give the application the Authorization header as HTTP_AUTHORIZATION.",
     .field = bind<&Written::config, &FastCgiConfig::environment,
                   &gateway::EnvironmentSettings::pass_authorization>()},
};

// Read from the files store's table: where scripts are.
const Directive kBorrowed[] = {
    {.name = "DocumentRoot", .type = ArgType::path, .field = bind<&Written::document_root>()},
};

std::unique_ptr<Store> make_store(const Scope& scope, ConfigErrors& errors) {
  Written written = scope.read<Written>(kDirectives);
  scope.fill(written, kBorrowed);
  FastCgiConfig config = std::move(written.config);
  if (!written.pass) {
    errors.add(scope.where(), "the fastcgi store needs FastCgiPass (unix:/path or host:port)");
    return nullptr;
  }
  std::string error;
  if (!parse_upstream(*written.pass, config.upstream, error)) {
    errors.add(scope.where("FastCgiPass"), "FastCgiPass " + *written.pass + ": " + error);
    return nullptr;
  }
  const bool under_document_root = !written.fastcgi_root.has_value();
  const std::optional<std::string>& root =
      under_document_root ? written.document_root : written.fastcgi_root;
  if (!root) {
    errors.add(scope.where(), "the fastcgi store needs a FastCgiRoot or a DocumentRoot");
    return nullptr;
  }
  // The application server may run elsewhere: the root is only made absolute, not checked.
  char resolved[PATH_MAX];
  config.root = ::realpath(root->c_str(), resolved) != nullptr ? std::string(resolved) : *root;
  config.maps_prefix = !under_document_root;
  config.keepalive = written.keepalive;
  for (const std::string& pair : config.environment.set) {
    if (pair.find('=') == std::string::npos || pair.front() == '=') {
      errors.add(scope.where("FastCgiSetParam"),
                 "FastCgiSetParam takes NAME=value words, not '" + pair + "'");
    }
  }
  config.environment.path.clear();  // the application server has its own PATH
  return std::make_unique<FastCgiStore>(std::move(config));
}

}  // namespace

void register_module(Registry& registry) {
  registry.add_module({"fastcgi", ModuleKind::store, "a FastCGI client (php-fpm, fcgiwrap)"},
                      kDirectives);
  registry.add_store("fastcgi", make_store);
}

}  // namespace collage::fastcgi
