// The cache module: its directives, and a provider for every location (one that only
// invalidates where Cache is off, so an upload anywhere reaches the entries of what it changed).

#include <unistd.h>

#include <mutex>
#include <set>

#include "cache_provider.h"
#include "collage/registry.h"
#include "collage/shared_values.h"
#include "collage/status_source.h"
#include "quick_answers.h"

namespace collage::cache {
namespace {

constexpr std::string_view kPoints[] = {"store", "filtered"};

const Directive kDirectives[] = {
    {.name = "Cache",
     .type = ArgType::flag,
     .contexts = kAnyContext,
     .default_value = "off",
     .help = "Keep this location's responses that RFC 9111 allows, and answer from them.",
     .field = bind<&CacheSettings::enabled>()},
    {.name = "CachePoint",
     .type = ArgType::enumeration,
     .contexts = kAnyContext,
     .default_value = "store",
     .help = "store: keep the store's output, keyed by the resource it resolved (shared by every "
             "protocol); filtered: keep the output of the content and encoding filters, by URL.",
     .choices = kPoints,
     .field = bind<&CacheSettings::point>()},
    {.name = "CacheTiers",
     .type = ArgType::list,
     .contexts = kAnyContext,
     .default_value = "memory",
     .help = "Where this location's entries live: memory, disk, memcached (any of them).",
     .field = bind<&CacheSettings::tiers>()},
    {.name = "CacheMemoryDirectory",
     .type = ArgType::path,
     .contexts = kServerContext,
     .help = "The memory tier's directory on tmpfs; by default one under /dev/shm named after "
             "the user and the configuration file.",
     .field = bind<&CacheSettings::memory_directory>()},
    {.name = "CacheMemorySize",
     .type = ArgType::size,
     .contexts = kServerContext,
     .default_value = "64m",
     .help = "Byte budget of the memory tier, shared by every process; least recently used "
             "entries go first. 0 turns the tier off.",
     .field = bind<&CacheSettings::memory_size>()},
    {.name = "CacheDiskDirectory",
     .type = ArgType::path,
     .contexts = kServerContext,
     .help = "The disk tier's directory (kept across restarts); no disk tier when unset.",
     .field = bind<&CacheSettings::disk_directory>()},
    {.name = "CacheDiskSize",
     .type = ArgType::size,
     .contexts = kServerContext,
     .default_value = "1g",
     .help = "Byte budget of the disk tier.",
     .field = bind<&CacheSettings::disk_size>()},
    {.name = "CacheMemcachedServers",
     .type = ArgType::list,
     .contexts = kServerContext,
     .help = "host:port of each memcached server of the shared tier (consistent hashing).",
     .field = bind<&CacheSettings::memcached_servers>()},
    {.name = "CacheMemcachedTimeout",
     .type = ArgType::duration,
     .contexts = kServerContext,
     .default_value = "200ms",
     .help = "Connect and read timeout per memcached call; a server that fails is skipped 5 s.",
     .min = 1,
     .field = bind<&CacheSettings::memcached_timeout>()},
    {.name = "CacheMemcachedMaxEntry",
     .type = ArgType::size,
     .contexts = kServerContext,
     .default_value = "1m",
     .help = "Entries larger than this are not sent to memcached (its item limit is 1 MiB).",
     .field = bind<&CacheSettings::memcached_max_entry>()},
    {.name = "CacheMaxEntrySize",
     .type = ArgType::size,
     .contexts = kAnyContext,
     .default_value = "8m",
     .help = "A response larger than this is passed on and not stored.",
     .field = bind<&CacheSettings::max_entry_size>()},
    {.name = "CacheValid",
     .type = ArgType::list,
     .contexts = kAnyContext,
     .help = "Freshness for responses that give none, per status: \"200 301 10m 404 1m any 5s\".",
     .field = bind<&CacheSettings::valid>()},
    {.name = "CacheHeuristicMax",
     .type = ArgType::duration,
     .contexts = kAnyContext,
     .default_value = "24h",
     .help = "Bound on the freshness guessed from Last-Modified (10% of its age, RFC 9111 "
             "§4.2.2).",
     .field = bind<&CacheSettings::heuristic_max>()},
    {.name = "CacheSetCookie",
     .type = ArgType::flag,
     .contexts = kAnyContext,
     .default_value = "off",
     .help = "Store responses that set cookies (the Set-Cookie field itself is never stored).",
     .field = bind<&CacheSettings::store_set_cookie>()},
    {.name = "CacheKey",
     .type = ArgType::list,
     .contexts = kAnyContext,
     .default_value = "scheme host path query",
     .help = "What the URL key holds: scheme, host, path, query, header:Name.",
     .field = bind<&CacheSettings::key>()},
    {.name = "CacheBypass",
     .type = ArgType::list,
     .contexts = kAnyContext,
     .help = "Request header names whose presence skips the lookup (the response is still kept).",
     .field = bind<&CacheSettings::bypass>()},
    {.name = "CacheLockTimeout",
     .type = ArgType::duration,
     .contexts = kAnyContext,
     .default_value = "5s",
     .help = "How long concurrent misses for one key wait for the first one's store call.",
     .min = 1,
     .field = bind<&CacheSettings::lock_timeout>()},
    {.name = "CachePurge",
     .type = ArgType::flag,
     .contexts = kAnyContext,
     .default_value = "off",
     .help = "Answer PURGE (a URL, or a prefix ending in *) here; guard it with access rules.",
     .field = bind<&CacheSettings::purge>()},
};

class MemcachedValues final : public SharedValues {
 public:
  explicit MemcachedValues(std::shared_ptr<Tiers> tiers) : tiers_(std::move(tiers)) {}
  std::optional<std::string> add_or_get(std::string_view name, std::string_view value,
                                        std::int64_t ttl_seconds) override {
    return tiers_->memcached()->add_or_get("collage:value:" + std::string(name), std::string(value),
                                           ttl_seconds);
  }

 private:
  std::shared_ptr<Tiers> tiers_;
};

std::string default_memory_directory(const Scope& scope) {
  // One per user and configuration file, so two servers on one machine never share by accident.
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const unsigned char c : scope.where().file) {
    hash = (hash ^ c) * 0x100000001b3ULL;
  }
  return fmt::format("/dev/shm/collage-cache-{}-{:08x}", ::getuid(), hash & 0xffffffffU);
}

std::unique_ptr<CacheProvider> make(const Scope& scope, ConfigErrors& errors) {
  const CacheSettings settings = scope.read<CacheSettings>(kDirectives);
  ProviderConfig config;
  config.enabled = settings.enabled;
  config.point = settings.point == "filtered" ? CachePoint::filtered : CachePoint::store;
  config.choice = TierChoice{false, false, false};
  for (const std::string& tier : settings.tiers) {
    if (tier == "memory") {
      config.choice.memory = true;
    } else if (tier == "disk") {
      config.choice.disk = true;
    } else if (tier == "memcached") {
      config.choice.memcached = true;
    } else {
      errors.add(scope.where("CacheTiers"),
                 "unknown tier '" + tier + "' (expected memory, disk or memcached)");
    }
  }
  if (settings.enabled && config.choice.disk && settings.disk_directory.empty()) {
    errors.add(scope.where("CacheTiers"), "the disk tier needs CacheDiskDirectory");
  }
  // memcached without servers is simply absent: a configuration can name the tier everywhere and
  // switch it on with -D for the servers (as the bundled example does).
  TierSettings tiers;
  tiers.memory_directory = settings.memory_directory.empty() ? default_memory_directory(scope)
                                                             : settings.memory_directory;
  tiers.memory_size = settings.memory_size;
  tiers.disk_directory = settings.disk_directory;
  tiers.disk_size = settings.disk_size;
  tiers.memcached_servers = settings.memcached_servers;
  tiers.memcached_timeout = settings.memcached_timeout;
  tiers.memcached_max_entry = settings.memcached_max_entry;
  config.tiers = Tiers::shared(tiers);
  if (settings.enabled) {
    config.tiers->enable();
  }
  if (config.tiers->memcached() != nullptr) {
    // The nodes' shared values (TLS ticket keys) live in the same servers as their entries.
    set_shared_values(std::make_shared<MemcachedValues>(config.tiers));
  }
  std::string error;
  if (!parse_key_spec(settings.key, config.key, error)) {
    errors.add(scope.where("CacheKey"), error);
  }
  if (!parse_valid(settings.valid, config.valid, error)) {
    errors.add(scope.where("CacheValid"), error);
  }
  config.policy.heuristic_max =
      std::chrono::duration_cast<std::chrono::seconds>(settings.heuristic_max).count();
  config.policy.store_set_cookie = settings.store_set_cookie;
  config.max_entry_size = settings.max_entry_size;
  config.bypass = settings.bypass;
  config.lock_timeout = settings.lock_timeout;
  config.purge = settings.purge;
  return make_provider(std::move(config));
}

}  // namespace

// /server-status: outcomes and ratio, then each tier's counts and bytes (shared memory, so
// every process's requests are in them).
void report_status(std::vector<StatusLine>& out) {
  std::set<std::string> seen;
  for (const std::shared_ptr<Tiers>& tiers : Tiers::all()) {
    SharedIndex* counts = tiers->coordination();
    if (counts == nullptr || !seen.insert(tiers->settings().memory_directory).second) {
      continue;
    }
    const std::uint64_t hits = counts->counter(Counter::hits);
    const std::uint64_t misses = counts->counter(Counter::misses);
    const std::uint64_t stale = counts->counter(Counter::stale);
    out.push_back({"CacheHits", std::to_string(hits)});
    out.push_back({"CacheMisses", std::to_string(misses)});
    out.push_back({"CacheStale", std::to_string(stale)});
    const std::uint64_t all = hits + misses + stale;
    out.push_back(
        {"CacheHitRatio", fmt::format("{:.3f}", all == 0 ? 0.0 : static_cast<double>(hits) / all)});
    for (FileTier* tier : {tiers->memory(), tiers->disk()}) {
      if (tier == nullptr || !tier->ready()) {
        continue;
      }
      const std::string prefix = tier == tiers->memory() ? "CacheMemory" : "CacheDisk";
      SharedIndex& index = tier->index();
      const std::uint64_t found = index.counter(Counter::found);
      const std::uint64_t missed = index.counter(Counter::missed);
      out.push_back({prefix + "Found", std::to_string(found)});
      out.push_back({prefix + "Missed", std::to_string(missed)});
      out.push_back(
          {prefix + "HitRatio",
           fmt::format("{:.3f}",
                       found + missed == 0 ? 0.0 : static_cast<double>(found) / (found + missed))});
      out.push_back({prefix + "Stores", std::to_string(index.counter(Counter::stores))});
      out.push_back({prefix + "Evictions", std::to_string(index.counter(Counter::evictions))});
      out.push_back({prefix + "Errors", std::to_string(index.counter(Counter::errors))});
      out.push_back({prefix + "Bytes", std::to_string(index.bytes())});
    }
    if (tiers->memcached() != nullptr) {
      out.push_back(
          {"CacheMemcachedFound", std::to_string(counts->counter(Counter::memcached_found))});
      out.push_back(
          {"CacheMemcachedMissed", std::to_string(counts->counter(Counter::memcached_missed))});
    }
  }
}

// /metrics: the same counts as Prometheus families, summed over every set of tiers.
void report_metrics(std::string& out) {
  std::set<std::string> seen;
  std::uint64_t outcomes[3] = {};
  struct TierCounts {
    std::uint64_t found = 0, missed = 0, stores = 0, evictions = 0, errors = 0, bytes = 0;
    bool present = false;
  } tiers_seen[3];  // memory, disk, memcached
  for (const std::shared_ptr<Tiers>& tiers : Tiers::all()) {
    SharedIndex* counts = tiers->coordination();
    if (counts == nullptr || !seen.insert(tiers->settings().memory_directory).second) {
      continue;
    }
    outcomes[0] += counts->counter(Counter::hits);
    outcomes[1] += counts->counter(Counter::misses);
    outcomes[2] += counts->counter(Counter::stale);
    for (FileTier* tier : {tiers->memory(), tiers->disk()}) {
      if (tier == nullptr || !tier->ready()) {
        continue;
      }
      TierCounts& t = tiers_seen[tier == tiers->memory() ? 0 : 1];
      SharedIndex& index = tier->index();
      t.present = true;
      t.found += index.counter(Counter::found);
      t.missed += index.counter(Counter::missed);
      t.stores += index.counter(Counter::stores);
      t.evictions += index.counter(Counter::evictions);
      t.errors += index.counter(Counter::errors);
      t.bytes += index.bytes();
    }
    if (tiers->memcached() != nullptr) {
      tiers_seen[2].present = true;
      tiers_seen[2].found += counts->counter(Counter::memcached_found);
      tiers_seen[2].missed += counts->counter(Counter::memcached_missed);
    }
  }
  if (seen.empty()) {
    return;  // no location caches
  }
  auto to = std::back_inserter(out);
  fmt::format_to(to,
                 "# HELP collage_cache_requests_total Cache lookups by outcome.\n"
                 "# TYPE collage_cache_requests_total counter\n"
                 "collage_cache_requests_total{{outcome=\"hit\"}} {}\n"
                 "collage_cache_requests_total{{outcome=\"miss\"}} {}\n"
                 "collage_cache_requests_total{{outcome=\"stale\"}} {}\n",
                 outcomes[0], outcomes[1], outcomes[2]);
  static constexpr std::string_view kTierNames[] = {"memory", "disk", "memcached"};
  struct Family {
    std::string_view name, help, type;
    std::uint64_t TierCounts::*field;
    bool memcached;  // memcached keeps only found and missed
  };
  static constexpr Family kFamilies[] = {
      {"collage_cache_tier_found_total", "Lookups a tier answered.", "counter", &TierCounts::found,
       true},
      {"collage_cache_tier_missed_total", "Lookups a tier did not hold.", "counter",
       &TierCounts::missed, true},
      {"collage_cache_tier_stores_total", "Entries written to a tier.", "counter",
       &TierCounts::stores, false},
      {"collage_cache_tier_evictions_total", "Entries a tier dropped to stay in its budget.",
       "counter", &TierCounts::evictions, false},
      {"collage_cache_tier_errors_total", "Reads or writes a tier failed.", "counter",
       &TierCounts::errors, false},
      {"collage_cache_tier_bytes", "Bytes a tier holds now.", "gauge", &TierCounts::bytes, false},
  };
  for (const Family& family : kFamilies) {
    fmt::format_to(to, "# HELP {} {}\n# TYPE {} {}\n", family.name, family.help, family.name,
                   family.type);
    for (std::size_t t = 0; t < 3; ++t) {
      if (tiers_seen[t].present && (t < 2 || family.memcached)) {
        fmt::format_to(to, "{}{{tier=\"{}\"}} {}\n", family.name, kTierNames[t],
                       tiers_seen[t].*family.field);
      }
    }
  }
}

void register_module(Registry& registry) {
  static std::once_flag reported;  // one section, however often the registry is built
  std::call_once(reported, [] {
    add_status_source("Cache", report_status);
    add_metrics_source(report_metrics);
  });
  registry.add_module({"cache", ModuleKind::cache,
                       "RFC 9111 cache: memory, disk and memcached tiers, PURGE, Cache-Status"},
                      kDirectives);
  registry.add_cache("cache", make);
  registry.set_quick_cache([](const Scope&, ConfigErrors&) -> std::unique_ptr<QuickCache> {
    return std::make_unique<QuickAnswers>();
  });
}

}  // namespace collage::cache
