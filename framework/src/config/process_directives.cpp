// Directives of the control process and the pool it keeps: shared by every MPM, read into a
// ProcessPlan by the MPM that runs.

#include <grp.h>
#include <pwd.h>

#include "collage/config.h"
#include "collage/mpm.h"
#include "process_directives.h"

#include "collage/core_settings.h"

namespace collage {
namespace {

const Directive kProcessDirectives[] = {
    {.name = "StartServers",
     .type = ArgType::integer,
     .default_value = "1",
     .help = "Children started at start-up and after a restart.",
     .min = 1,
     .max = 20000,
     .field = bind<&ProcessSettings::start_servers>()},
    {.name = "ServerLimit",
     .type = ArgType::integer,
     .default_value = "16",
     .help = "Most children alive at once, old generation included; sizes the scoreboard.",
     .min = 1,
     .max = 20000,
     .field = bind<&ProcessSettings::server_limit>()},
    {.name = "ThreadsPerChild",
     .type = ArgType::integer,
     .default_value = "25",
     .help = "Worker threads per child (event: the pool for blocking work; worker: one per "
             "connection).",
     .min = 1,
     .max = 20000,
     .field = bind<&ProcessSettings::threads_per_child>()},
    {.name = "ThreadLimit",
     .type = ArgType::integer,
     .default_value = "64",
     .help = "Scoreboard slots per child: the upper bound of ThreadsPerChild (event: connections "
             "shown in detail per child).",
     .min = 1,
     .max = 20000,
     .field = bind<&ProcessSettings::thread_limit>()},
    {.name = "MaxRequestWorkers",
     .type = ArgType::integer,
     .default_value = "400",
     .help = "Most worker threads (prefork: children) serving at once across all children.",
     .min = 1,
     .max = 1000000,
     .field = bind<&ProcessSettings::max_request_workers>()},
    {.name = "MinSpareThreads",
     .type = ArgType::integer,
     .default_value = "10",
     .help = "Below this many idle worker threads across children, another child is started.",
     .min = 0,
     .max = 1000000,
     .field = bind<&ProcessSettings::min_spare_threads>()},
    {.name = "MaxSpareThreads",
     .type = ArgType::integer,
     .default_value = "75",
     .help = "Above this many idle worker threads, a child is stopped gracefully.",
     .min = 1,
     .max = 1000000,
     .field = bind<&ProcessSettings::max_spare_threads>()},
    {.name = "MaxConnectionsPerChild",
     .type = ArgType::integer,
     .default_value = "0",
     .help = "A child exits gracefully after this many connections and is replaced; 0: never.",
     .min = 0,
     .field = bind<&ProcessSettings::max_connections_per_child>()},
    {.name = "User",
     .type = ArgType::string,
     .help = "When started as root, children run as this user (after the ports are bound).",
     .field = bind<&ProcessSettings::user>()},
    {.name = "Group",
     .type = ArgType::string,
     .help = "When started as root, children run with this group (default: the User's group).",
     .field = bind<&ProcessSettings::group>()},
    {.name = "PidFile",
     .type = ArgType::string,
     .default_value = "collage.pid",
     .help = "Where the control process writes its process id (collage -k reads it), or off.",
     .field = bind<&ProcessSettings::pid_file>()},
};

}  // namespace

std::span<const Directive> process_directives() {
  return kProcessDirectives;
}

ProcessSettings process_settings(const Scope& server) {
  return server.read<ProcessSettings>(kProcessDirectives);
}

bool read_common_plan(const Scope& server, ConfigErrors& errors, ProcessPlan& plan) {
  const ProcessSettings settings = process_settings(server);
  plan.start_servers = settings.start_servers;
  plan.server_limit = settings.server_limit;
  plan.max_request_workers = settings.max_request_workers;
  plan.max_connections_per_child = settings.max_connections_per_child;
  const std::size_t before = errors.messages().size();
  if (plan.start_servers > plan.server_limit) {
    errors.add(server.where("StartServers"), "StartServers " + std::to_string(plan.start_servers) +
                                                 " is more than ServerLimit " +
                                                 std::to_string(plan.server_limit));
  }
  if (settings.user && ::getpwnam(settings.user->c_str()) == nullptr) {
    errors.add(server.where("User"), "no such user '" + *settings.user + "'");
  }
  if (settings.group && ::getgrnam(settings.group->c_str()) == nullptr) {
    errors.add(server.where("Group"), "no such group '" + *settings.group + "'");
  }
  return errors.messages().size() == before;
}

bool threaded_plan(const Scope& server, ConfigErrors& errors, ProcessPlan& plan) {
  bool ok = read_common_plan(server, errors, plan);
  const ProcessSettings settings = process_settings(server);
  plan.threads_per_child = settings.threads_per_child;
  plan.thread_limit = settings.thread_limit;
  plan.min_spare = settings.min_spare_threads;
  plan.max_spare = settings.max_spare_threads;
  if (plan.threads_per_child > plan.thread_limit) {
    errors.add(server.where("ThreadsPerChild"),
               "ThreadsPerChild " + std::to_string(plan.threads_per_child) +
                   " is more than ThreadLimit " + std::to_string(plan.thread_limit));
    ok = false;
  }
  if (plan.max_request_workers < plan.threads_per_child) {
    errors.add(server.where("MaxRequestWorkers"),
               "MaxRequestWorkers " + std::to_string(plan.max_request_workers) +
                   " is less than ThreadsPerChild " + std::to_string(plan.threads_per_child));
    ok = false;
  }
  // Like httpd: leave room for one child's worth of threads, or the pool would start a child
  // and stop it again at once.
  plan.max_spare = std::max(plan.max_spare, plan.min_spare + plan.threads_per_child);
  return ok;
}

}  // namespace collage
