// The proxy module: its directives and the reverse proxy store (docs/proxy.md).

#include <charconv>

#include "collage/address_rules.h"
#include "collage/registry.h"
#include "proxy_store.h"

namespace collage::proxy {
namespace {

constexpr std::string_view kBalances[] = {"roundrobin", "leastconn", "hash"};

const Directive kDirectives[] = {
    {.name = "ProxyPass",
     .type = ArgType::list,
     .contexts = kAnyContext,
     .help = "Upstream HTTP/1.1 servers of a location whose Store is proxy: "
             "\"http://10.0.0.5:8080/app http://10.0.0.6:8080/app weight=2\"; the location's "
             "prefix maps onto the first URL's path.",
     .field = bind<&ProxySettings::pass>()},
    {.name = "ProxyBalance",
     .type = ArgType::enumeration,
     .contexts = kAnyContext,
     .default_value = "roundrobin",
     .help = "roundrobin (by weight), leastconn (fewest requests in flight per weight) or hash "
             "(ProxyHashKey, rendezvous hashing).",
     .choices = kBalances,
     .field = bind<&ProxySettings::balance>()},
    {.name = "ProxyHashKey",
     .type = ArgType::string,
     .contexts = kAnyContext,
     .default_value = "uri",
     .help = "What ProxyBalance hash hashes: uri, client (address) or header:Name.",
     .field = bind<&ProxySettings::hash_key>()},
    {.name = "ProxyConnectTimeout",
     .type = ArgType::duration,
     .contexts = kAnyContext,
     .default_value = "5s",
     .help = "Connecting to an upstream server; past it the next server is tried.",
     .min = 1,
     .field = bind<&ProxySettings::connect_timeout>()},
    {.name = "ProxyReadTimeout",
     .type = ArgType::duration,
     .contexts = kAnyContext,
     .default_value = "60s",
     .help = "Each read from and write to an upstream; a response head that takes longer is 504.",
     .min = 1,
     .field = bind<&ProxySettings::read_timeout>()},
    {.name = "ProxyKeepalive",
     .type = ArgType::integer,
     .contexts = kAnyContext,
     .default_value = "32",
     .help = "Idle connections kept open per upstream server per child process (0: none).",
     .max = 4096,
     .field = bind<&ProxySettings::keepalive>()},
    {.name = "ProxyMaxFails",
     .type = ArgType::integer,
     .contexts = kAnyContext,
     .default_value = "1",
     .help = "Failures in a row (refused, timed out, malformed) that take a server out.",
     .min = 1,
     .max = 1000,
     .field = bind<&ProxySettings::max_fails>()},
    {.name = "ProxyFailTimeout",
     .type = ArgType::duration,
     .contexts = kAnyContext,
     .default_value = "10s",
     .help = "How long a failed server is left out (tried again when every server is out).",
     .min = 1,
     .field = bind<&ProxySettings::fail_timeout>()},
    {.name = "ProxyPreserveHost",
     .type = ArgType::flag,
     .contexts = kAnyContext,
     .default_value = "off",
     .help = "Send the client's Host upstream instead of the upstream server's host:port.",
     .field = bind<&ProxySettings::preserve_host>()},
    {.name = "ProxyRewriteLocation",
     .type = ArgType::flag,
     .contexts = kAnyContext,
     .default_value = "on",
     .help = "Rewrite Location and Content-Location that point at the upstream into the "
             "client's URL space (as ProxyPassReverse).",
     .field = bind<&ProxySettings::rewrite_location>()},
    {.name = "ProxyHealthCheck",
     .type = ArgType::string,
     .contexts = kAnyContext,
     .help = "A path each child asks every upstream server for (active health checks); unset: "
             "none, only the passive ones.",
     .field = bind<&ProxySettings::health, &HealthSettings::path>()},
    {.name = "ProxyHealthInterval",
     .type = ArgType::duration,
     .contexts = kAnyContext,
     .default_value = "5s",
     .help = "Time between two rounds of health checks.",
     .min = 100,
     .field = bind<&ProxySettings::health, &HealthSettings::interval>()},
    {.name = "ProxyHealthStatus",
     .type = ArgType::integer,
     .contexts = kAnyContext,
     .default_value = "200",
     .help = "The status a healthy server answers the health check with.",
     .min = 100,
     .max = 599,
     .field = bind<&ProxySettings::health, &HealthSettings::expected_status>()},
    {.name = "ProxyHealthRise",
     .type = ArgType::integer,
     .contexts = kAnyContext,
     .default_value = "2",
     .help = "Right answers in a row that bring a server that was out back in.",
     .min = 1,
     .max = 100,
     .field = bind<&ProxySettings::health, &HealthSettings::rise>()},
    {.name = "ProxyHealthFall",
     .type = ArgType::integer,
     .contexts = kAnyContext,
     .default_value = "3",
     .help = "Wrong answers (or none within ProxyConnectTimeout) in a row that take it out.",
     .min = 1,
     .max = 100,
     .field = bind<&ProxySettings::health, &HealthSettings::fall>()},
    {.name = "ProxySendProxyProtocol",
     .type = ArgType::flag,
     .contexts = kAnyContext,
     .default_value = "off",
     .help = "Begin each upstream connection with a PROXY v1 header naming the client (such "
             "connections are not pooled: each speaks for one client).",
     .field = bind<&ProxySettings::send_proxy_protocol>()},
    {.name = "ProxyWebSockets",
     .type = ArgType::flag,
     .contexts = kAnyContext,
     .default_value = "on",
     .help = "Pass an HTTP/1.1 client's Upgrade (WebSocket) to the upstream and, once it "
             "answers 101, relay the connection both ways.",
     .field = bind<&ProxySettings::websockets>()},
    {.name = "ProxyTunnelTimeout",
     .type = ArgType::duration,
     .contexts = kAnyContext,
     .default_value = "1h",
     .help = "How long a WebSocket (an upgraded connection) may carry nothing either way before "
             "both sides are closed.",
     .min = 1000,
     .field = bind<&ProxySettings::tunnel_timeout>()},
    {.name = "ProxyTrustedProxies",
     .type = ArgType::list,
     .contexts = kAnyContext,
     .help = "Addresses or CIDR blocks of proxies in front of this server whose "
             "X-Forwarded-For and Forwarded are kept and extended (others' are replaced).",
     .field = bind<&ProxySettings::trusted>()},
};

// "http://host:port/path" → address, authority and path.
bool parse_pass_url(std::string_view url, UpstreamServer& server, std::string& path,
                    std::string& error) {
  if (!url.starts_with("http://")) {
    error = "'" + std::string(url) + "': only http:// upstreams are supported so far";
    return false;
  }
  url.remove_prefix(7);
  const std::size_t slash = url.find('/');
  std::string authority(url.substr(0, slash));
  path = slash == std::string_view::npos ? "" : std::string(url.substr(slash));
  if (authority.find(':') == std::string::npos || authority.back() == ']') {
    authority += ":80";
  }
  server.authority = authority;
  return gateway::parse_upstream(authority, server.address, error);
}

std::unique_ptr<Store> make_store(const Scope& scope, ConfigErrors& errors) {
  ProxySettings settings = scope.read<ProxySettings>(kDirectives);
  settings.health.timeout = settings.connect_timeout;
  std::vector<std::unique_ptr<UpstreamServer>> servers;
  std::string base_path;
  std::string error;
  for (const std::string& word : settings.pass) {
    if (word.starts_with("weight=")) {
      int weight = 0;
      const auto [end, ec] = std::from_chars(word.data() + 7, word.data() + word.size(), weight);
      if (servers.empty() || ec != std::errc() || end != word.data() + word.size() || weight < 1 ||
          weight > 100) {
        errors.add(scope.where("ProxyPass"),
                   "'" + word + "': a weight from 1 to 100 follows a URL");
        continue;
      }
      servers.back()->weight = weight;
      continue;
    }
    auto server = std::make_unique<UpstreamServer>();
    std::string path;
    if (!parse_pass_url(word, *server, path, error)) {
      errors.add(scope.where("ProxyPass"), error);
      continue;
    }
    if (servers.empty()) {
      base_path = path;
    }
    server->pool = std::make_shared<gateway::ConnectionPool>(settings.keepalive);
    servers.push_back(std::move(server));
  }
  if (servers.empty()) {
    errors.add(scope.where("ProxyPass"), "the proxy store needs ProxyPass with at least one URL");
    return nullptr;
  }
  auto trusted = std::make_shared<AddressRules>();
  for (const std::string& word : settings.trusted) {
    if (const auto block = parse_address_block(word)) {
      trusted->add(*block);
    } else {
      errors.add(scope.where("ProxyTrustedProxies"), "'" + word + "' is not an address or block");
    }
  }
  if (settings.hash_key != "uri" && settings.hash_key != "client" &&
      !(settings.hash_key.starts_with("header:") && settings.hash_key.size() > 7)) {
    errors.add(scope.where("ProxyHashKey"), "expected uri, client or header:Name");
  }
  const Balance balance = settings.balance == "leastconn" ? Balance::least_connections
                          : settings.balance == "hash"    ? Balance::hash
                                                          : Balance::round_robin;
  auto balancer = std::make_shared<Balancer>(std::move(servers), balance, settings.max_fails,
                                             settings.fail_timeout);
  return std::make_unique<ProxyStore>(std::move(settings), std::move(balancer),
                                      std::move(base_path), std::move(trusted));
}

}  // namespace

void register_module(Registry& registry) {
  registry.add_module({"proxy", ModuleKind::store, "reverse proxy to HTTP/1.1 upstream servers"},
                      kDirectives);
  registry.add_store("proxy", make_store);
}

}  // namespace collage::proxy
