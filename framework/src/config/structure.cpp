#include "collage/structure.h"

#include <fmt/format.h>

#include "collage/path.h"

namespace collage {
namespace {

const AttributeSpec kListenAttributes[] = {
    {.name = "protocol",
     .required = true,
     .help = "The front end on this socket: http1, h2, ftp, gopher (collage -l lists them)."},
    {.name = "address",
     .type = ArgType::address,
     .default_value = "0.0.0.0",
     .help = "IP address or host name to bind; a name binds every address it resolves to; "
             "unix:/path for a Unix-domain socket (HTTP front ends only)."},
    {.name = "port",
     .type = ArgType::integer,
     .help = "TCP port, required unless the address is unix:; 0 lets the kernel pick one (the "
             "bound port is logged).",
     .min = 0,
     .max = 65535},
    {.name = "host",
     .help = "Virtual host for requests that carry no host name of their own (Gopher, FTP)."},
    {.name = "tls",
     .type = ArgType::flag,
     .default_value = "off",
     .help = "on: a TLS handshake first, then the front end (or the one ALPN picks)."},
    {.name = "proxy_protocol",
     .type = ArgType::flag,
     .default_value = "off",
     .help = "on: each connection starts with a PROXY header (v1 or v2) from a load balancer; "
             "the client it names is the peer for logs, limits and access rules."},
    {.name = "public_port",
     .type = ArgType::integer,
     .help = "The port clients reach this listener at when port forwarding makes it differ; "
             "what generated menus and links give.",
     .min = 1,
     .max = 65535},
    {.name = "admin",
     .type = ArgType::flag,
     .default_value = "off",
     .help = "on: this listener serves only the admin API (http1; a Unix socket, or loopback TCP "
             "with an AdminToken)."},
    {.name = "mode",
     .help = "unix: sockets: permission bits of the socket file, in octal (0600 when not given)."},
    {.name = "owner", .help = "unix: sockets: the user that owns the socket file."},
    {.name = "group", .help = "unix: sockets: the group that owns the socket file."},
};

const AttributeSpec kVirtualHostAttributes[] = {
    {.name = "name",
     .required = true,
     .help = "Host name this virtual host answers (ServerAlias adds more); * for any."},
};

const AttributeSpec kLocationAttributes[] = {
    {.name = "path",
     .required = true,
     .help = "URL prefix, matched on whole path segments; the longest match wins."},
};

const AttributeSpec kLoadModuleAttributes[] = {
    {.name = "name", .required = true, .help = "The module's name (collage -M lists loaded ones)."},
    {.name = "path", .type = ArgType::path, .required = true, .help = "The shared object."},
};

const AttributeSpec kDefineAttributes[] = {
    {.name = "name", .required = true, .help = "Variable name, used as ${name} in any value."},
    {.name = "value",
     .required = true,
     .help = "Its value; -D NAME=VALUE and the environment take precedence."},
};

const AttributeSpec kIncludeAttributes[] = {
    {.name = "path",
     .type = ArgType::path,
     .required = true,
     .help = "A file or a glob (conf.d/*.xml, read in sorted order), relative to the including "
             "file; each holds a <Collage> root whose children stand where the <Include> is."},
};

const ElementSpec kElements[] = {
    {.name = "Listen",
     .help = "A listening socket and the front end that serves it.",
     .attributes = kListenAttributes},
    {.name = "VirtualHost",
     .help = "Directives and locations for one host name.",
     .attributes = kVirtualHostAttributes,
     .has_children = true},
    {.name = "Location",
     .contexts = kServerContext | kVirtualHostContext,
     .help = "Directives for a URL prefix (and every protocol's paths below it).",
     .attributes = kLocationAttributes,
     .has_children = true},
    {.name = "LoadModule",
     .help = "Loads a module built as a shared object before the rest of the file is read.",
     .attributes = kLoadModuleAttributes},
    {.name = "Define",
     .help = "A variable for ${NAME} substitution.",
     .attributes = kDefineAttributes},
    {.name = "Include",
     .contexts = kAnyContext,
     .help = "Reads more configuration from other files; a glob that matches nothing is fine, "
             "a named file that is missing is an error, and a file including itself (through "
             "any chain) is refused with the chain.",
     .attributes = kIncludeAttributes},
};

// Text for element content and attribute values (HTML escaping is valid XML escaping).
std::string escaped(std::string_view text) {
  std::string out;
  append_html_escaped(text, out);
  return out;
}

void write_scope(const Scope& scope, const DirectiveRegistry& registry, std::string_view indent,
                 std::string& out) {
  for (const RegisteredDirective* reg : registry.sorted()) {
    const std::string_view name = reg->directive->name;
    const std::string* text = scope.written_here(name);
    if (text == nullptr) {
      continue;
    }
    // Entries (one rule per element) were joined with newlines; each goes back on its own.
    std::string_view rest = *text;
    while (true) {
      const std::size_t end =
          reg->directive->type == ArgType::entries ? rest.find('\n') : std::string_view::npos;
      fmt::format_to(std::back_inserter(out), "{}<{}>{}</{}>\n", indent, name,
                     escaped(rest.substr(0, end)), name);
      if (end == std::string_view::npos) {
        break;
      }
      rest.remove_prefix(end + 1);
    }
  }
}

void write_location(const LocationConfig& location, const DirectiveRegistry& registry,
                    std::string_view indent, std::string& out) {
  std::string body;
  write_scope(*location.scope, registry, std::string(indent) + "  ", body);
  if (body.empty() && location.path == "/") {
    return;  // the implicit root location
  }
  fmt::format_to(std::back_inserter(out), "{}<Location path=\"{}\">\n{}{}</Location>\n", indent,
                 escaped(location.path), body, indent);
}

}  // namespace

std::span<const ElementSpec> structural_elements() {
  return kElements;
}

const ElementSpec* find_structural_element(std::string_view name) {
  for (const ElementSpec& e : kElements) {
    if (e.name == name) {
      return &e;
    }
  }
  return nullptr;
}

std::string write_effective_config(const ServerConfig& config, const DirectiveRegistry& registry,
                                   bool defaults) {
  std::string out = "<?xml version=\"1.0\"?>\n";
  fmt::format_to(std::back_inserter(out), "<!-- {} as the server reads it (collage -T) -->\n",
                 escaped(config.file));
  out += "<Collage>\n";
  for (const auto& [name, value] : config.defines) {
    fmt::format_to(std::back_inserter(out), "  <!-- ${{{}}} = {} -->\n", escaped(name),
                   escaped(value));
  }
  for (const ModuleToLoad& m : config.modules) {
    fmt::format_to(std::back_inserter(out), "  <LoadModule name=\"{}\" path=\"{}\"/>\n",
                   escaped(m.name), escaped(m.path));
  }
  for (const ListenConfig& l : config.listeners) {
    fmt::format_to(std::back_inserter(out), "  <Listen protocol=\"{}\" address=\"{}\"",
                   escaped(l.protocol), escaped(l.address));
    if (!l.unix_socket()) {
      fmt::format_to(std::back_inserter(out), " port=\"{}\"", l.port);
    }
    if (!l.host.empty()) {
      fmt::format_to(std::back_inserter(out), " host=\"{}\"", escaped(l.host));
    }
    if (l.tls) {
      out += " tls=\"on\"";
    }
    if (l.proxy_protocol) {
      out += " proxy_protocol=\"on\"";
    }
    if (l.public_port != 0) {
      fmt::format_to(std::back_inserter(out), " public_port=\"{}\"", l.public_port);
    }
    if (l.admin) {
      out += " admin=\"on\"";
    }
    for (const auto& [name, value] :
         {std::pair{"mode", &l.mode}, std::pair{"owner", &l.owner}, std::pair{"group", &l.group}}) {
      if (!value->empty()) {
        fmt::format_to(std::back_inserter(out), " {}=\"{}\"", name, escaped(*value));
      }
    }
    out += "/>\n";
  }
  write_scope(*config.scope, registry, "  ", out);
  if (defaults) {
    out += "  <!-- defaults: what applies where nothing above says otherwise -->\n";
    for (const RegisteredDirective* reg : registry.sorted()) {
      const Directive& d = *reg->directive;
      if ((d.contexts & kServerContext) != 0 && !d.default_value.empty() &&
          config.scope->written_here(d.name) == nullptr) {
        fmt::format_to(std::back_inserter(out), "  <{}>{}</{}>\n", d.name, escaped(d.default_value),
                       d.name);
      }
    }
  }
  for (const VirtualHostConfig& host : config.virtual_hosts) {
    if (host.name == "*" && host.scope->empty_here()) {
      // Locations written outside any <VirtualHost>.
      for (const LocationConfig& location : host.locations) {
        write_location(location, registry, "  ", out);
      }
      continue;
    }
    fmt::format_to(std::back_inserter(out), "  <VirtualHost name=\"{}\">\n", escaped(host.name));
    write_scope(*host.scope, registry, "    ", out);
    for (const LocationConfig& location : host.locations) {
      write_location(location, registry, "    ", out);
    }
    out += "  </VirtualHost>\n";
  }
  out += "</Collage>\n";
  return out;
}

}  // namespace collage
