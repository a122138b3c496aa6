// The CGI store module: its directives and its registration.

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "cgi_store.h"
#include "collage/registry.h"

namespace collage::cgi {
namespace {

// The directives as written; make_store checks them and builds a CgiConfig.
struct Written {
  std::optional<std::string> cgi_root;
  std::optional<std::string> user;
  std::optional<std::string> group;
  std::optional<std::string> document_root;
  CgiConfig config;
};

const Directive kDirectives[] = {
    {.name = "CgiRoot",
     .type = ArgType::path,
     .contexts = kAnyContext,
     .help = "Directory of scripts for the cgi store; the location's path maps onto it, as "
             "Apache's ScriptAlias (/cgi-bin/x runs CgiRoot/x). Without it, scripts are found "
             "under DocumentRoot by the whole URL path, and CgiExtensions says which files run.",
     .field = bind<&Written::cgi_root>()},
    {.name = "CgiExtensions",
     .type = ArgType::list,
     .contexts = kAnyContext,
     .help = "Only files ending in one of these run as scripts (e.g. .cgi .py); other files of "
             "the location are served as the files store serves them. Empty: every file runs.",
     .field = bind<&Written::config, &CgiConfig::extensions>()},
    {.name = "CgiTimeout",
     .type = ArgType::duration,
     .contexts = kAnyContext,
     .default_value = "60s",
     .help = "Longest a script may go without printing anything; then it is killed (504 before "
             "its header, the response cut off after).",
     .min = 1,
     .field = bind<&Written::config, &CgiConfig::output_timeout>()},
    {.name = "CgiMaxTime",
     .type = ArgType::duration,
     .contexts = kAnyContext,
     .default_value = "10m",
     .help = "Longest a script may run in all, output or not; then its process group is killed.",
     .min = 1,
     .field = bind<&Written::config, &CgiConfig::max_time>()},
    {.name = "CgiMaxProcesses",
     .type = ArgType::integer,
     .contexts = kServerContext,
     .default_value = "64",
     .help = "Most scripts running at once across every child of the server; past it, 503 with "
             "Retry-After.",
     .min = 1,
     .max = 100000,
     .field = bind<&Written::config, &CgiConfig::max_processes>()},
    {.name = "CgiSpoolDirectory",
     .type = ArgType::path,
     .contexts = kServerContext,
     .default_value = "/tmp",
     .help = "Where request bodies larger than 64 KiB wait (as unnamed files) before the script "
             "reads them on its standard input.",
     .field = bind<&Written::config, &CgiConfig::spool_directory>()},
    {.name = "CgiAllowWritableTree",
     .type = ArgType::flag,
     .contexts = kAnyContext,
     .default_value = "off",
     .help = "Allow scripts to run from a directory that clients can write to (a Writable "
             "location, FTP uploads). Off: such a configuration is refused.",
     .field = bind<&Written::config, &CgiConfig::allow_writable_tree>()},
    {.name = "CgiUser",
     .type = ArgType::string,
     .contexts = kAnyContext,
     .help = "Run scripts as this user (not root), through a helper each child starts before it "
             "drops root's rights, as suexec does. Needs the server started as root. Unset: "
             "scripts run as the child's User.",
     .field = bind<&Written::user>()},
    {.name = "CgiGroup",
     .type = ArgType::string,
     .contexts = kAnyContext,
     .help = "Group for CgiUser's scripts (default: that user's own group).",
     .field = bind<&Written::group>()},
    {.name = "CgiPath",
     .type = ArgType::string,
     .contexts = kAnyContext,
     .default_value = "/usr/local/bin:/usr/bin:/bin",
     .help = "The PATH scripts run with.",
     .field =
         bind<&Written::config, &CgiConfig::environment, &gateway::EnvironmentSettings::path>()},
    {.name = "CgiSetEnv",
     .type = ArgType::list,
     .contexts = kAnyContext,
     .help = "Extra environment variables for scripts, as NAME=value words.",
     .field =
         bind<&Written::config, &CgiConfig::environment, &gateway::EnvironmentSettings::set>()},
    {.name = "CgiPassEnv",
     .type = ArgType::list,
     .contexts = kAnyContext,
     .help = "Names of the server's own environment variables to pass on to scripts.",
     .field =
         bind<&Written::config, &CgiConfig::environment, &gateway::EnvironmentSettings::pass>()},
    {.name = "CgiPassAuth",
     .type = ArgType::flag,
     .contexts = kAnyContext,
     .default_value = "off",
     .help = "Give scripts the Authorization header as HTTP_AUTHORIZATION (off: withheld, as "
             "Apache's CGIPassAuth).",
     .field = bind<&Written::config, &CgiConfig::environment,
                   &gateway::EnvironmentSettings::pass_authorization>()},
};

// DocumentRoot belongs to the files store; read here to find scripts when CgiRoot is absent.
const Directive kBorrowed[] = {
    {.name = "DocumentRoot", .type = ArgType::path, .field = bind<&Written::document_root>()},
};

std::unique_ptr<Store> make_store(const Registry& registry, const Scope& scope,
                                  ConfigErrors& errors) {
  Written written = scope.read<Written>(kDirectives);
  scope.fill(written, kBorrowed);
  CgiConfig config = std::move(written.config);
  const bool under_document_root = !written.cgi_root.has_value();
  const std::optional<std::string>& root =
      under_document_root ? written.document_root : written.cgi_root;
  if (!root) {
    errors.add(scope.where(),
               "the cgi store needs a CgiRoot (or a DocumentRoot and CgiExtensions)");
    return nullptr;
  }
  if (under_document_root && config.extensions.empty()) {
    errors.add(scope.where(),
               "the cgi store runs scripts from DocumentRoot only for the CgiExtensions named "
               "(or give the scripts a CgiRoot of their own)");
    return nullptr;
  }
  for (const std::string& pair : config.environment.set) {
    if (pair.find('=') == std::string::npos || pair.front() == '=') {
      errors.add(scope.where("CgiSetEnv"), "CgiSetEnv takes NAME=value words, not '" + pair + "'");
    }
  }
  for (const std::string& extension : config.extensions) {
    if (extension.size() < 2 || extension.front() != '.') {
      errors.add(scope.where("CgiExtensions"),
                 "CgiExtensions takes extensions with their dot (.cgi), not '" + extension + "'");
    }
  }
  if (written.user) {
    const passwd* user = ::getpwnam(written.user->c_str());
    if (user == nullptr) {
      errors.add(scope.where("CgiUser"), "no such user '" + *written.user + "'");
    } else if (user->pw_uid == 0) {
      errors.add(scope.where("CgiUser"), "CgiUser may not be root");
    } else {
      gid_t gid = user->pw_gid;
      if (written.group) {
        const group* named = ::getgrnam(written.group->c_str());
        if (named == nullptr) {
          errors.add(scope.where("CgiGroup"), "no such group '" + *written.group + "'");
        } else {
          gid = named->gr_gid;
        }
      }
      config.run_as = std::make_pair(user->pw_uid, gid);
      config.run_as_name = *written.user;
    }
  }
  char resolved[PATH_MAX];
  const char* directive = under_document_root ? "DocumentRoot" : "CgiRoot";
  if (::realpath(root->c_str(), resolved) == nullptr) {
    errors.add(scope.where(directive),
               std::string(directive) + " " + *root + " cannot be used: " + std::strerror(errno));
    return nullptr;
  }
  const int root_fd = ::open(resolved, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) {
    errors.add(scope.where(directive), std::string(directive) + " " + *root +
                                           " is not a directory: " + std::strerror(errno));
    return nullptr;
  }
  config.root = resolved;
  config.maps_prefix = !under_document_root;
  std::unique_ptr<Store> others;
  if (!config.extensions.empty() && written.document_root) {
    // Files that are not scripts are served as the files store would.
    if (const StoreFactory* files = registry.store("files")) {
      others = (*files)(scope, errors);
    }
  }
  return std::make_unique<CgiStore>(std::move(config), root_fd, std::move(others));
}

}  // namespace

void register_module(Registry& registry) {
  registry.add_module({"cgi", ModuleKind::store, "runs CGI scripts (RFC 3875)"}, kDirectives);
  registry.add_store("cgi", [&registry](const Scope& scope, ConfigErrors& errors) {
    return make_store(registry, scope, errors);
  });
}

}  // namespace collage::cgi
