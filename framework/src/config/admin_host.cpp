// The admin API's place in a generation: admin="on" listeners are checked (HTTP/1.1 only; TCP
// ones need a token and, unless AdminAllowPublic says otherwise, a loopback address) and get a
// host of their own that no Host header reaches, holding only the admin store.

#include "collage/generation.h"
#include "collage/listen_address.h"
#include "collage/registry.h"

namespace collage {
namespace {

bool loopback_only(const std::string& address) {
  std::string error;
  const std::vector<std::string> addresses = resolve_listen_address(address, error);
  for (const std::string& text : addresses) {
    asio::error_code ec;
    const asio::ip::address ip = asio::ip::make_address(text, ec);
    if (ec || !ip.is_loopback()) {
      return false;
    }
  }
  return !addresses.empty();
}

}  // namespace

void Generation::build_admin_host(const ServerConfig& config, const Registry& registry,
                                  ConfigErrors& errors) {
  const Scope& server = *config.scope;
  bool any = false;
  for (const Listener& listener : listeners_) {
    const ListenConfig& listen = listener.config;
    if (listen.unix_socket() &&
        (listen.tls || (listen.protocol != "http1" && listen.protocol != "h2"))) {
      errors.add(listen.where,
                 "a unix: socket serves http1 or h2 without TLS (the client is a "
                 "local process), not " +
                     listen.protocol + (listen.tls ? " with TLS" : ""));
    }
    if (!listen.admin) {
      continue;
    }
    any = true;
    if (listen.protocol != "http1") {
      errors.add(listen.where, "the admin API speaks http1; an admin=\"on\" listener cannot be " +
                                   listen.protocol);
    }
    if (listen.unix_socket()) {
      continue;
    }
    if (!server.is_set("AdminToken") && !server.is_set("AdminTokenFile")) {
      errors.add(listen.where,
                 "an admin API on TCP needs a bearer token: set AdminToken or AdminTokenFile (or "
                 "listen on a unix: socket, which file permissions protect)");
    }
    if (!loopback_only(listen.address) &&
        !(server.is_set("AdminAllowPublic") && server.flag("AdminAllowPublic"))) {
      errors.add(listen.where,
                 "the admin API listens on " + listen.address +
                     ", which is not a loopback address: use 127.0.0.1 or ::1, or "
                     "say AdminAllowPublic on (the token is then all that guards it)");
    }
  }
  for (const VirtualHost& host : virtual_hosts_) {
    for (const auto& location : host.locations) {
      if (location->store_name == "admin") {
        errors.add(location->scope->where("Store"),
                   "the admin store is served only on <Listen admin=\"on\"> listeners; remove it "
                   "from this location");
      }
    }
  }
  if (!any) {
    return;
  }
  const StoreFactory* factory = registry.store("admin");
  if (factory == nullptr) {
    errors.add(server.where(),
               "an admin=\"on\" listener needs the admin module, which is not "
               "compiled in");
    return;
  }
  auto location = std::make_unique<Location>();
  location->prefix = "/";
  location->scope = &server;
  location->place = place_settings(server);
  location->store_name = "admin";
  location->store = (*factory)(server, errors);
  admin_host_ = std::make_unique<VirtualHost>();
  admin_host_->name = "admin";
  admin_host_->locations.push_back(std::move(location));
}

}  // namespace collage
