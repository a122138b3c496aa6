#include "meta_variables.h"

#include <cstdlib>

#include "collage/menu.h"
#include "collage/metadata.h"
#include "collage/path.h"

namespace collage::gateway {
namespace {

std::string_view server_protocol(std::string_view front_end) {
  if (front_end == "h2") {
    return "HTTP/2.0";
  }
  if (front_end == "gopher") {
    return "RFC1436";  // as Gophernicus gives it
  }
  if (front_end == "ftp") {
    return "FTP";
  }
  return "HTTP/1.1";
}

void add(std::vector<std::string>& env, std::string_view name, std::string_view value) {
  std::string entry(name);
  entry += '=';
  entry += value;
  env.push_back(std::move(entry));
}

// Request headers a script must not see as HTTP_*: the body's own (given as CONTENT_*),
// credentials unless allowed, and "Proxy", which would become HTTP_PROXY (httpoxy).
bool withheld(std::string_view name, bool pass_authorization) {
  return iequals(name, "Content-Type") || iequals(name, "Content-Length") ||
         iequals(name, "Proxy") || iequals(name, "Proxy-Authorization") ||
         (!pass_authorization && iequals(name, "Authorization"));
}

}  // namespace

std::string query_string(const Request& request) {
  if (request.protocol != "gopher") {
    return std::string(request.query);
  }
  std::string out;
  for (char c : request.query) {
    const auto u = static_cast<unsigned char>(c);
    if (c == ' ') {
      out += '+';
    } else if ((u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ||
               std::string_view("-_.~").find(c) != std::string_view::npos) {
      out += c;
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

std::vector<std::string> search_words(std::string_view query) {
  std::vector<std::string> words;
  if (query.empty() || query.find('=') != std::string_view::npos) {
    return words;
  }
  std::string word;
  for (std::size_t i = 0; i <= query.size(); ++i) {
    if (i == query.size() || query[i] == '+') {
      if (!word.empty()) {
        words.push_back(std::move(word));
      }
      word.clear();
    } else if (query[i] == '%' && i + 2 < query.size() && hex_digit_value(query[i + 1]) >= 0 &&
               hex_digit_value(query[i + 2]) >= 0) {
      word += static_cast<char>(hex_digit_value(query[i + 1]) * 16 + hex_digit_value(query[i + 2]));
      i += 2;
    } else {
      word += query[i];
    }
  }
  return words;
}

std::vector<std::string> build_environment(const RequestContext& ctx, const ScriptTarget& target,
                                           const EnvironmentSettings& settings,
                                           std::optional<std::uint64_t> content_length) {
  const Request& request = ctx.request;
  std::vector<std::string> env;
  env.reserve(40 + request.headers.size());
  add(env, "GATEWAY_INTERFACE", "CGI/1.1");
  add(env, "SERVER_SOFTWARE", "Collage");
  add(env, "SERVER_PROTOCOL", server_protocol(request.protocol));
  add(env, "REQUEST_METHOD", request.method_token);
  add(env, "REQUEST_SCHEME", request.secure ? "https" : "http");
  if (request.secure) {
    add(env, "HTTPS", "on");
  }
  add(env, "QUERY_STRING", query_string(request));
  // REQUEST_URI is the target as the client sent it; a Gopher selector has no URL form.
  add(env, "REQUEST_URI", request.target.empty() ? std::string_view(request.path) : request.target);
  add(env, "SCRIPT_NAME", target.script_name);
  add(env, "SCRIPT_FILENAME", target.filename);
  if (!target.path_info.empty()) {
    add(env, "PATH_INFO", target.path_info);
    if (!target.document_root.empty()) {
      add(env, "PATH_TRANSLATED", target.document_root + target.path_info);
    }
  }
  add(env, "DOCUMENT_ROOT", target.document_root);
  add(env, "CONTEXT_PREFIX", ctx.location.prefix);
  // php-cgi refuses to run without it (its force-redirect check).
  add(env, "REDIRECT_STATUS", "200");
  if (request.protocol == "gopher" && !request.query.empty()) {
    add(env, "SEARCHREQUEST", request.query);  // Gophernicus's name for the raw search words
  }
  // A Gopher request's host is the listener's routing name: scripts get what clients reach
  // (ServerName or the local address, and the public port), as generated menus do.
  const MenuOrigin origin = request.protocol == "gopher" ? menu_origin(ctx) : MenuOrigin{};
  std::string_view server_name = request.protocol == "gopher" ? origin.host : request.host;
  if (const auto& name = ctx.location.place.server_name) {
    server_name = *name;
  }
  if (const PeerInfo* peer = request.peer) {
    add(env, "REMOTE_ADDR", peer->address);
    add(env, "REMOTE_HOST", peer->address);  // no reverse lookups, as Apache's HostnameLookups off
    add(env, "REMOTE_PORT", std::to_string(peer->port));
    add(env, "SERVER_ADDR", peer->local_address);
    add(env, "SERVER_PORT", origin.port.empty() ? std::to_string(peer->local_port) : origin.port);
    if (server_name.empty()) {
      server_name = peer->local_address;
    }
  }
  add(env, "SERVER_NAME", server_name);
  if (!request.user.empty()) {
    add(env, "REMOTE_USER", request.user);
    if (istarts_with(request.headers.get("Authorization"), "Basic ")) {
      add(env, "AUTH_TYPE", "Basic");
    }
  }
  if (content_length) {
    add(env, "CONTENT_LENGTH", std::to_string(*content_length));
  }
  if (request.headers.contains("Content-Type")) {
    add(env, "CONTENT_TYPE", request.headers.get("Content-Type"));
  }
  for (const auto& [name, value] : request.headers.fields()) {
    // A name with '_' would be spoofable ("X_Forwarded_For" vs "X-Forwarded-For"): dropped, as
    // nginx and Apache 2.4 do.
    if (withheld(name, settings.pass_authorization) || name.find('_') != std::string_view::npos) {
      continue;
    }
    std::string key = "HTTP_";
    for (char c : name) {
      key += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    bool merged = false;
    for (std::string& existing : env) {  // a repeated field becomes one list (RFC 3875 §4.1.18)
      if (existing.size() > key.size() && existing.compare(0, key.size(), key) == 0 &&
          existing[key.size()] == '=') {
        existing += ", ";
        existing += value;
        merged = true;
        break;
      }
    }
    if (!merged) {
      add(env, key, value);
    }
  }
  if (!settings.path.empty()) {
    add(env, "PATH", settings.path);
  }
  for (const std::string& name : settings.pass) {
    if (const char* value = std::getenv(name.c_str())) {
      add(env, name, value);
    }
  }
  for (const std::string& pair : settings.set) {
    env.push_back(pair);
  }
  return env;
}

}  // namespace collage::gateway
