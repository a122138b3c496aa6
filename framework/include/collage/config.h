#pragma once
// The configuration as loaded from XML: checked against the directive registry, with every
// `${NAME}` substituted. Building the runtime objects from it is generation.h's job.

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "collage/directive.h"

namespace collage {

struct ListenConfig {
  std::string protocol;    // a registered protocol module name, e.g. "http1"
  std::string address;     // IP literal or host name
  std::uint16_t port = 0;  // 0 = the kernel picks one; the bound port is logged
  // Virtual host for requests that carry no host of their own (Gopher, FTP); empty = default.
  std::string host;
  bool tls = false;  // tls="on": TLS handshake first, then the front end (or one ALPN picks)
  // proxy_protocol="on": every connection starts with a PROXY header (v1 or v2) naming the
  // client a load balancer relays; that client is the peer from then on.
  bool proxy_protocol = false;
  // The port clients reach this listener at, when port forwarding makes it differ (0: the same);
  // what generated menus and links give.
  std::uint16_t public_port = 0;
  // admin="on": the admin API answers every request here, whatever its Host (see
  // docs/admin-api.md).
  bool admin = false;
  // A Unix-domain socket (address="unix:/path"): its file's permission bits, owner and group.
  std::string mode;
  std::string owner;
  std::string group;
  SourceLocation where;

  bool unix_socket() const { return address.starts_with("unix:"); }
  std::string unix_path() const { return address.substr(5); }
};

struct LocationConfig {
  std::string path;  // URL prefix, matched on whole path segments
  std::unique_ptr<Scope> scope;
};

struct VirtualHostConfig {
  std::string name;  // primary host name; "*" or "" matches any host
  std::unique_ptr<Scope> scope;
  std::vector<LocationConfig> locations;  // always holds "/" (made implicitly if absent)
};

// A <LoadModule name="..." path="..."/> element: a module built as a shared object.
struct ModuleToLoad {
  std::string name;
  std::string path;
  SourceLocation where;
};

struct ServerConfig {
  std::string file;  // the configuration file path, as given
  std::unique_ptr<Scope> scope;
  std::vector<ListenConfig> listeners;
  std::vector<VirtualHostConfig> virtual_hosts;  // never empty; the first one is the default
  std::map<std::string, std::string> defines;    // final values of every ${NAME} the file used
  std::vector<ModuleToLoad> modules;             // <LoadModule> elements, in file order
};

struct LoadOptions {
  std::map<std::string, std::string> defines;  // from -D NAME=VALUE; these win over everything
  bool use_environment = true;                 // let ${NAME} fall back to the environment
  // Return what was read even when errors were found (still listed in errors), so a caller can
  // run its later checks too and report every problem at once (collage -t). Unless the XML
  // itself is unreadable.
  bool keep_going = false;
};

// Loads and checks a configuration file. Returns null and fills errors (one "file:line: message"
// each) when anything is wrong; the loader keeps going to report as many errors as it can.
std::unique_ptr<ServerConfig> load_config_file(const std::string& path,
                                               const DirectiveRegistry& directives,
                                               const LoadOptions& options, ConfigErrors& errors);
// Same, from text in memory; `name` is used in error messages.
std::unique_ptr<ServerConfig> load_config_text(const std::string& text, const std::string& name,
                                               const DirectiveRegistry& directives,
                                               const LoadOptions& options, ConfigErrors& errors);

// Reads only the <LoadModule> elements of a file (with ${NAME} expanded); errors in the rest of
// the file are left for load_config_file to report.
std::vector<ModuleToLoad> scan_load_modules(const std::string& path, const LoadOptions& options,
                                            ConfigErrors& errors);
// Same, from text in memory named name (relative paths resolve against name's directory).
std::vector<ModuleToLoad> scan_load_modules_text(const std::string& text, const std::string& name,
                                                 const LoadOptions& options, ConfigErrors& errors);

}  // namespace collage
