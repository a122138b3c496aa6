#pragma once
// The module registry. Each module exports one `register_module(Registry&)`; the binary calls
// the compiled-in ones from a CMake-generated register_builtin_modules(), in a fixed order.

#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "collage/access.h"
#include "collage/cache.h"
#include "collage/config.h"
#include "collage/directive.h"
#include "collage/filter.h"
#include "collage/logger.h"
#include "collage/mpm.h"
#include "collage/protocol.h"
#include "collage/site_rules.h"
#include "collage/store.h"
#include "collage/tls.h"

namespace collage {

enum class ModuleKind : std::uint8_t {
  core,
  protocol,
  store,
  filter,
  access,
  cache,
  logger,
  mpm,
  site
};
std::string_view module_kind_name(ModuleKind kind);

struct ModuleInfo {
  std::string_view name;
  ModuleKind kind;
  std::string_view summary;
  std::string loaded_from;  // the shared object's path; empty when compiled in
};

// Factories run once per configuration generation. They read their directives from the scope,
// report problems to errors (with scope.where(name)) and may return null after reporting.
using ProtocolFactory =
    std::function<std::unique_ptr<Protocol>(const Scope& server, ConfigErrors& errors)>;
using StoreFactory =
    std::function<std::unique_ptr<Store>(const Scope& location, ConfigErrors& errors)>;
using FilterFactory =
    std::function<std::unique_ptr<Filter>(const Scope& location, ConfigErrors& errors)>;
// Returns null when the location does not use the module's directives (no check to run there).
using AccessFactory =
    std::function<std::unique_ptr<AccessCheck>(const Scope& location, ConfigErrors& errors)>;
// Returns null when the location does not use the module's directives.
using SiteRulesFactory =
    std::function<std::unique_ptr<SiteRules>(const Scope& location, ConfigErrors& errors)>;
using MpmFactory = std::function<std::unique_ptr<Mpm>(const Scope& server, ConfigErrors& errors)>;
// Builds the TLS provider from the whole configuration (server and virtual host certificates).
// `required`: a listener has tls="on", so a configuration without certificates is an error;
// otherwise the module returns null when nothing asks it for TLS (FTP's AUTH TLS then says so).
using TlsFactory = std::function<std::unique_ptr<TlsProvider>(const ServerConfig& config,
                                                              bool required, ConfigErrors& errors)>;

struct ProtocolRegistration {
  ProtocolFactory factory;
  std::string_view alpn;  // ALPN id of this front end ("http/1.1", "h2"); empty if none
  // Front ends that TLS may negotiate instead on this one's listeners, preferred first
  // (HTTP/1.1 listeners name "h2").
  std::vector<std::string_view> alpn_alternatives;
};

struct FilterRegistration {
  std::string_view name;
  FilterCapabilities capabilities;
  // Enabled in every location unless turned off with the Filters directive.
  bool on_by_default = false;
  FilterFactory factory;
};

class Registry {
 public:
  Registry();

  void add_module(const ModuleInfo& info, std::span<const Directive> directives = {});
  void add_protocol(std::string_view name, ProtocolRegistration protocol);
  void set_tls(TlsFactory factory) { tls_ = std::move(factory); }
  void add_store(std::string_view name, StoreFactory factory);
  void add_filter(FilterRegistration filter);
  // Access checks run in the order their modules registered.
  void add_access(std::string_view name, AccessFactory factory);
  // Site rules run in the order their modules registered (site_rules.h).
  void add_site_rules(std::string_view name, SiteRulesFactory factory);
  // Cache providers are asked in the order their modules registered.
  void add_cache(std::string_view name, CacheFactory factory);
  // The quick path's cache (at most one module provides it).
  void set_quick_cache(QuickCacheFactory factory) { quick_cache_ = std::move(factory); }
  void add_logger(std::string_view name, LoggerFactory factory);
  void add_mpm(std::string_view name, MpmFactory factory);
  // Records that the module was loaded from a shared object (for collage -M).
  void mark_loaded(std::string_view name, const std::string& path);

  const DirectiveRegistry& directives() const { return directives_; }
  const std::vector<ModuleInfo>& modules() const { return modules_; }
  const ProtocolRegistration* protocol(std::string_view name) const;
  const TlsFactory* tls() const { return tls_ ? &tls_ : nullptr; }
  const StoreFactory* store(std::string_view name) const;
  const MpmFactory* mpm(std::string_view name) const;
  const std::vector<FilterRegistration>& filters() const { return filters_; }
  const std::vector<std::pair<std::string_view, AccessFactory>>& access_checks() const {
    return access_;
  }
  const std::vector<std::pair<std::string_view, CacheFactory>>& caches() const { return caches_; }
  const std::vector<std::pair<std::string_view, SiteRulesFactory>>& site_rules() const {
    return site_rules_;
  }
  const QuickCacheFactory* quick_cache() const { return quick_cache_ ? &quick_cache_ : nullptr; }
  const std::vector<std::pair<std::string_view, LoggerFactory>>& loggers() const {
    return loggers_;
  }
  // Every before/after name a filter declares must name a registered filter; returns the first
  // that does not ("a: after b"), or empty.
  std::string unknown_filter_constraint() const;

 private:
  DirectiveRegistry directives_;
  std::vector<ModuleInfo> modules_;
  std::map<std::string, ProtocolRegistration, std::less<>> protocols_;
  TlsFactory tls_;
  std::map<std::string, StoreFactory, std::less<>> stores_;
  std::map<std::string, MpmFactory, std::less<>> mpms_;
  std::vector<FilterRegistration> filters_;
  std::vector<std::pair<std::string_view, AccessFactory>> access_;
  std::vector<std::pair<std::string_view, CacheFactory>> caches_;
  std::vector<std::pair<std::string_view, SiteRulesFactory>> site_rules_;
  QuickCacheFactory quick_cache_;
  std::vector<std::pair<std::string_view, LoggerFactory>> loggers_;
};

// Generated by CMake: calls every compiled-in module's register_module().
void register_builtin_modules(Registry& registry);

}  // namespace collage
