#pragma once
// One configuration generation: the immutable runtime objects built from a ServerConfig (stores,
// filters, protocols, the routing table). Connections hold a shared_ptr to the generation they
// started with, so a reload never changes the ground under a running request.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "collage/config.h"
#include "collage/core_settings.h"
#include "collage/filter.h"
#include "collage/log.h"
#include "collage/metrics.h"
#include "collage/protocol.h"
#include "collage/real_ip.h"
#include "collage/registry.h"
#include "collage/site_rules.h"
#include "collage/store.h"

namespace collage {

struct FilterSlot {
  const FilterRegistration* registration;
  std::unique_ptr<Filter> filter;
};

struct Location {
  // "/" or "/docs" (no trailing slash except for the root); "@name" for a named location, which
  // no client path reaches (try-files and rewrites go there by name).
  std::string prefix;
  const Scope* scope = nullptr;
  PlaceSettings place;  // the core directives as they apply here
  std::unique_ptr<Store> store;
  std::vector<FilterSlot> filters;                     // candidates, already in chain order
  std::vector<std::unique_ptr<AccessCheck>> access;    // the access phase, in order
  std::vector<std::unique_ptr<CacheProvider>> caches;  // the cache phases, in order
  std::vector<std::unique_ptr<SiteRules>> rules;       // site rules (site_rules.h), in order
  bool rules_quick_path_safe = true;                   // every rule says quick_path_safe()
  bool rules_handle_errors = false;                    // some rule says handles_errors()
  std::string store_name;                              // the Store directive's module
  RequestSeriesCache request_series;                   // metrics of its requests, per front end
};

struct VirtualHost {
  std::string name;
  std::vector<std::string> aliases;
  std::vector<std::unique_ptr<Location>> locations;  // longest prefix first
};

struct Listener {
  ListenConfig config;
  const Protocol* protocol = nullptr;
  // With TLS: ALPN ids offered, preferred first, and the front end each one selects.
  std::vector<std::string> alpn_offers;
  std::vector<const Protocol*> alpn_protocols;
};

// Shared ownership from within (shared_from_this): work a request starts that outlives it (a
// background revalidation) keeps its generation alive.
class Generation : public std::enable_shared_from_this<Generation> {
 public:
  // Builds every runtime object; returns null with errors filled when anything is wrong.
  static std::shared_ptr<Generation> build(std::unique_ptr<ServerConfig> config,
                                           const Registry& registry, ConfigErrors& errors);

  const ServerConfig& config() const { return *config_; }
  const Scope& server_scope() const { return *config_->scope; }
  // The core server-wide directives (ErrorLog, AccessLog, timeouts, …).
  const ServerSettings& settings() const { return settings_; }
  const std::vector<Listener>& listeners() const { return listeners_; }
  const std::vector<VirtualHost>& virtual_hosts() const { return virtual_hosts_; }
  // What admin="on" listeners serve: one location, the admin store, no filters and no cache;
  // never reached by a Host name. Null when no listener is an admin one.
  const VirtualHost* admin_host() const { return admin_host_.get(); }
  const std::string& mpm_name() const { return mpm_name_; }

  // The virtual host whose name or alias equals host (already lower-cased, without port), else
  // the first one.
  const VirtualHost& virtual_host_for(std::string_view host) const;
  // Longest location prefix matching path on whole segments; never null (every host has "/").
  const Location& location_for(const VirtualHost& host, std::string_view path) const;
  // The host's location named name ("@front"), or null.
  const Location* named_location(const VirtualHost& host, std::string_view name) const;

  // Every method some location allows, for "OPTIONS *".
  MethodSet all_methods() const { return all_methods_; }

  // The TLS provider, when some listener uses TLS (else null).
  const TlsProvider* tls() const { return tls_.get(); }
  // Who the real client behind trusted proxies is (RealIpFrom); trusted is empty when off.
  const RealIp& real_ip() const { return real_ip_; }
  // The quick path (collage/cache.h); null when no module provides one.
  const QuickCache* quick_cache() const { return quick_cache_.get(); }
  // A front end built for this generation, by name; null if none.
  const Protocol* protocol(std::string_view name) const;

  // The log phase: whether any request logger is on, whether request metrics are counted, and
  // one record to both (log_request) or to the metrics alone (count_request: a front end with
  // no logger on skips the header lookups only the access log needs).
  bool logs_requests() const { return !loggers_.empty(); }
  bool counts_requests() const { return settings_.request_metrics && metrics_row() != nullptr; }
  void log_request(const AccessRecord& record) const;
  // The metrics part of log_request alone, also for what the access log does not list (FTP).
  void count_request(const AccessRecord& record) const;
  void flush_request_logs() const;
  // Opens log files named by the configuration; false with error filled when one cannot be opened.
  bool open_logs(std::string& error) const;

 private:
  // Checks the admin="on" and unix: listeners and makes admin_host_ (admin_host.cpp).
  void build_admin_host(const ServerConfig& config, const Registry& registry, ConfigErrors& errors);

  std::unique_ptr<ServerConfig> config_;
  std::map<std::string, std::unique_ptr<Protocol>, std::less<>> protocols_;
  std::unique_ptr<TlsProvider> tls_;
  std::unique_ptr<QuickCache> quick_cache_;
  RealIp real_ip_;
  std::vector<Listener> listeners_;
  std::vector<VirtualHost> virtual_hosts_;
  std::unique_ptr<VirtualHost> admin_host_;
  std::string mpm_name_;
  MethodSet all_methods_;
  std::vector<std::unique_ptr<RequestLogger>> loggers_;
  RequestSeriesCache unrouted_series_;  // requests refused before routing (400, 414, …)
  ServerSettings settings_;
};

}  // namespace collage
