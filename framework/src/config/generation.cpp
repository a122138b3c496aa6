#include "collage/generation.h"

#include "collage/core_settings.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "collage/metadata.h"
#include "collage/middle_end.h"

namespace collage {
namespace {

// A file the server will create or append to (a log, the pid file): its directory must exist and
// be writable, or the start fails after `-t` said all is well.
void check_writable_file(const Scope& server, std::string_view directive, const std::string& path,
                         std::string_view off, ConfigErrors& errors) {
  if (path.empty() || path == off) {
    return;
  }
  const std::size_t slash = path.rfind('/');
  const std::string directory =
      slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  struct stat info {};
  if (::stat(directory.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    errors.add(server.where(directive), std::string(directive) + " " + path + ": directory " +
                                            directory + " does not exist");
  } else if (::access(directory.c_str(), W_OK) != 0) {
    errors.add(server.where(directive), std::string(directive) + " " + path + ": directory " +
                                            directory + " is not writable");
  } else if (::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) {
    errors.add(server.where(directive),
               std::string(directive) + " " + path + " is a directory, not a file");
  }
}

// Whether one directory is the other or lies beneath it.
bool trees_overlap(std::string_view a, std::string_view b) {
  auto beneath = [](std::string_view inner, std::string_view outer) {
    return inner.starts_with(outer) &&
           (inner.size() == outer.size() || outer.ends_with('/') || inner[outer.size()] == '/');
  };
  return beneath(a, b) || beneath(b, a);
}

// No store may run programs from a tree some store lets clients write (Store::program_trees).
void check_program_trees(const Generation& gen, ConfigErrors& errors) {
  std::vector<std::pair<std::string, const Location*>> writable;
  for (const VirtualHost& host : gen.virtual_hosts()) {
    for (const auto& location : host.locations) {
      if (location->store != nullptr) {
        for (std::string& tree : location->store->writable_trees()) {
          writable.emplace_back(std::move(tree), location.get());
        }
      }
    }
  }
  for (const VirtualHost& host : gen.virtual_hosts()) {
    for (const auto& location : host.locations) {
      if (location->store == nullptr) {
        continue;
      }
      for (const std::string& tree : location->store->program_trees()) {
        for (const auto& [written, by] : writable) {
          if (trees_overlap(tree, written)) {
            errors.add(location->scope->where(),
                       "programs would run from " + tree + ", which clients can write to through " +
                           "the location at " + by->scope->where().str() + " (" + written +
                           "); move the scripts, or allow it with CgiAllowWritableTree on");
          }
        }
      }
    }
  }
}

}  // namespace

std::shared_ptr<Generation> Generation::build(std::unique_ptr<ServerConfig> config,
                                              const Registry& registry, ConfigErrors& errors) {
  std::shared_ptr<Generation> gen(new Generation);
  const Scope& server = *config->scope;

  const ServerSettings settings = server_settings(server);
  gen->mpm_name_ = settings.mpm.value_or(std::string());
  if (!gen->mpm_name_.empty() && registry.mpm(gen->mpm_name_) == nullptr) {
    errors.add(server.where("Mpm"), "unknown MPM '" + gen->mpm_name_ +
                                        "' (collage -l lists the compiled-in ones; others need "
                                        "a <LoadModule>)");
  }

  if (const std::string bad = registry.unknown_filter_constraint(); !bad.empty()) {
    errors.add(server.where(), "a filter is ordered against one no module registers (" + bad +
                                   "): a misspelled name, or a module that is not loaded");
  }

  if (config->listeners.empty()) {
    errors.add(server.where(), "no <Listen> element: the server would serve nothing");
  }
  // One front end object per protocol name, shared by its listeners.
  auto instantiate = [&](std::string_view name) -> const Protocol* {
    if (auto it = gen->protocols_.find(name); it != gen->protocols_.end()) {
      return it->second.get();
    }
    const ProtocolRegistration* registration = registry.protocol(name);
    if (registration == nullptr) {
      return nullptr;
    }
    std::unique_ptr<Protocol> protocol = registration->factory(server, errors);
    const Protocol* raw = protocol.get();
    gen->protocols_.emplace(std::string(name), std::move(protocol));
    return raw;
  };
  std::set<std::pair<std::string, std::uint16_t>> bound;
  bool any_tls = false;
  for (const ListenConfig& listen : config->listeners) {
    const ProtocolRegistration* registration = registry.protocol(listen.protocol);
    if (registration == nullptr) {
      errors.add(listen.where, "unknown protocol '" + listen.protocol + "'");
      continue;
    }
    if ((listen.port != 0 || listen.unix_socket()) &&
        !bound.emplace(listen.address, listen.port).second) {
      errors.add(listen.where, "address " + listen.address +
                                   (listen.unix_socket() ? "" : ":" + std::to_string(listen.port)) +
                                   " is listened on twice");
    }
    Listener listener{listen, instantiate(listen.protocol), {}, {}};
    // Alternatives exist on plain listeners too: HTTP/1.1 hands h2c connections to HTTP/2.
    for (std::string_view alternative : registration->alpn_alternatives) {
      const ProtocolRegistration* other = registry.protocol(alternative);
      if (other != nullptr && !other->alpn.empty()) {
        const Protocol* protocol = instantiate(alternative);
        if (listen.tls) {
          listener.alpn_offers.emplace_back(other->alpn);
          listener.alpn_protocols.push_back(protocol);
        }
      }
    }
    if (listen.tls) {
      any_tls = true;
      if (!registration->alpn.empty()) {
        listener.alpn_offers.emplace_back(registration->alpn);
        listener.alpn_protocols.push_back(listener.protocol);
      }
    }
    gen->listeners_.push_back(std::move(listener));
  }
  // The TLS module decides from its own directives whether there is anything to provide (FTP's
  // AUTH TLS needs the provider without any tls="on" listener).
  if (const TlsFactory* tls = registry.tls()) {
    gen->tls_ = (*tls)(*config, any_tls, errors);
  } else if (any_tls) {
    errors.add(server.where(), "a listener asks for TLS, but no TLS module is compiled in");
  }

  for (const std::string& word : settings.real_ip_from) {
    if (const std::optional<AddressBlock> block = parse_address_block(word)) {
      gen->real_ip_.trusted.add(*block);
    } else {
      errors.add(server.where("RealIpFrom"), "'" + word + "' is not an address or CIDR block");
    }
  }
  gen->real_ip_.header = settings.real_ip_header;
  if (!iequals(settings.real_ip_header, "X-Forwarded-For") &&
      !iequals(settings.real_ip_header, "Forwarded") &&
      !iequals(settings.real_ip_header, "X-Real-IP")) {
    errors.add(server.where("RealIpHeader"),
               "RealIpHeader must be X-Forwarded-For, Forwarded or X-Real-IP");
  }

  if (const QuickCacheFactory* quick = registry.quick_cache()) {
    gen->quick_cache_ = (*quick)(server, errors);
  }

  for (VirtualHostConfig& host_config : config->virtual_hosts) {
    VirtualHost host;
    host.name = host_config.name;
    for (std::string alias : place_settings(*host_config.scope).server_alias) {
      std::transform(alias.begin(), alias.end(), alias.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      host.aliases.push_back(std::move(alias));
    }
    for (LocationConfig& location_config : host_config.locations) {
      const Scope& scope = *location_config.scope;
      auto location = std::make_unique<Location>();
      location->prefix = location_config.path;
      location->scope = &scope;
      location->place = place_settings(scope);
      const PlaceSettings& place = location->place;
      for (const auto& [name, factory] : registry.access_checks()) {
        if (std::unique_ptr<AccessCheck> check = factory(scope, errors)) {
          location->access.push_back(std::move(check));
        }
      }
      for (const auto& [name, factory] : registry.site_rules()) {
        if (std::unique_ptr<SiteRules> rules = factory(scope, errors)) {
          location->rules_quick_path_safe =
              location->rules_quick_path_safe && rules->quick_path_safe();
          location->rules_handle_errors = location->rules_handle_errors || rules->handles_errors();
          location->rules.push_back(std::move(rules));
        }
      }
      for (const auto& [name, factory] : registry.caches()) {
        if (std::unique_ptr<CacheProvider> cache = factory(scope, errors)) {
          location->caches.push_back(std::move(cache));
        }
      }

      const std::string& store_name = place.store;
      location->store_name = store_name;
      if (const StoreFactory* factory = registry.store(store_name)) {
        location->store = (*factory)(scope, errors);
        if (location->store) {
          gen->all_methods_ = gen->all_methods_ | location->store->methods();
        }
      } else {
        errors.add(scope.where("Store"), "unknown store '" + store_name + "'");
      }

      // Filters: the defaults, plus those named, minus those named with a leading '-'.
      std::set<std::string, std::less<>> wanted;
      std::set<std::string, std::less<>> unwanted;
      for (const std::string& name : place.filters) {
        const bool remove = !name.empty() && name[0] == '-';
        const std::string bare = remove ? name.substr(1) : name;
        const bool known = std::any_of(registry.filters().begin(), registry.filters().end(),
                                       [&](const auto& f) { return f.name == bare; });
        if (!known) {
          errors.add(scope.where("Filters"), "unknown filter '" + bare + "'");
        }
        (remove ? unwanted : wanted).insert(bare);
      }
      std::vector<const FilterRegistration*> chosen;
      for (const FilterRegistration& f : registry.filters()) {
        const bool on = (f.on_by_default || wanted.contains(f.name)) && !unwanted.contains(f.name);
        if (on) {
          chosen.push_back(&f);
        }
      }
      for (const FilterRegistration* f : order_filters(std::move(chosen))) {
        if (std::unique_ptr<Filter> filter = f->factory(scope, errors)) {
          location->filters.push_back(FilterSlot{f, std::move(filter)});
        }
      }
      host.locations.push_back(std::move(location));
    }
    // Longest prefix first; two prefixes of one length never match the same path.
    std::sort(host.locations.begin(), host.locations.end(),
              [](const auto& a, const auto& b) { return a->prefix.size() > b->prefix.size(); });
    gen->virtual_hosts_.push_back(std::move(host));
  }

  gen->build_admin_host(*config, registry, errors);
  check_program_trees(*gen, errors);

  for (const auto& [name, factory] : registry.loggers()) {
    if (std::unique_ptr<RequestLogger> logger = factory(server, errors)) {
      gen->loggers_.push_back(std::move(logger));
    }
  }
  gen->settings_ = settings;
  check_writable_file(server, "AccessLog", settings.access_log, "off", errors);
  if (settings.error_log != "syslog" && !settings.error_log.starts_with("syslog:")) {
    check_writable_file(server, "ErrorLog", settings.error_log, "stderr", errors);
  }
  check_writable_file(server, "PidFile", process_settings(server).pid_file, "off", errors);
  gen->config_ = std::move(config);
  if (!errors.empty()) {
    return nullptr;
  }
  return gen;
}

void Generation::count_request(const AccessRecord& record) const {
  const Request* request = record.request;
  if (counts_requests()) {
    const VirtualHost* host = request != nullptr ? request->routed_host : nullptr;
    const Location* location = request != nullptr ? request->routed_location : nullptr;
    if (location == nullptr && request != nullptr && !record.cache_status.empty()) {
      // Answered by the quick path, before routing: counted under the location it stands for.
      host = &virtual_host_for(request->host);
      location = &location_for(*host, request->path);
    }
    const RequestSeriesCache& cache =
        location != nullptr ? location->request_series : unrouted_series_;
    if (const RequestSeries* series =
            cache.find(record.protocol, host != nullptr ? std::string_view(host->name) : "",
                       location != nullptr ? std::string_view(location->store_name) : "none")) {
      // Without a request there is no arrival time: counted, but not in the durations.
      const std::int64_t elapsed_us =
          record.duration_us >= 0 ? record.duration_us
          : request == nullptr    ? -1
                                  : std::chrono::duration_cast<std::chrono::microseconds>(
                                     std::chrono::system_clock::now() - request->received)
                                     .count();
      collage::count_request(*series, record.status, record.bytes, elapsed_us);
    }
  }
}

void Generation::log_request(const AccessRecord& record) const {
  count_request(record);
  for (const auto& logger : loggers_) {
    logger->log(record);
  }
}

void Generation::flush_request_logs() const {
  for (const auto& logger : loggers_) {
    logger->flush();
  }
}

const Protocol* Generation::protocol(std::string_view name) const {
  auto it = protocols_.find(name);
  return it == protocols_.end() ? nullptr : it->second.get();
}

bool Generation::open_logs(std::string& error) const {
  for (const auto& logger : loggers_) {
    if (!logger->open(error)) {
      return false;
    }
  }
  return true;
}

const VirtualHost& Generation::virtual_host_for(std::string_view host) const {
  for (const VirtualHost& v : virtual_hosts_) {
    if (v.name == host) {
      return v;
    }
    for (const std::string& alias : v.aliases) {
      if (alias == host) {
        return v;
      }
    }
  }
  return virtual_hosts_.front();
}

const Location* Generation::named_location(const VirtualHost& host, std::string_view name) const {
  for (const auto& location : host.locations) {
    if (location->prefix == name) {
      return location.get();
    }
  }
  return nullptr;
}

const Location& Generation::location_for(const VirtualHost& host, std::string_view path) const {
  for (const auto& location : host.locations) {
    const std::string& prefix = location->prefix;
    if (prefix == "/") {
      return *location;
    }
    if (prefix.front() == '@') {
      continue;  // named: reached only by name
    }
    // "/docs" matches "/docs", "/docs/" and "/docs/x", but not "/docsx".
    if (path.starts_with(prefix) && (path.size() == prefix.size() || path[prefix.size()] == '/')) {
      return *location;
    }
  }
  return *host.locations.back();
}

}  // namespace collage
