#include "proxy_store.h"
#include "proxy_tunnel.h"

#include <fmt/format.h>

#include "collage/address_rules.h"
#include "collage/http_date.h"
#include "collage/log.h"
#include "collage/middle_end.h"
#include "collage/proxy_protocol.h"
#include "proxy_body.h"

namespace collage::proxy {
namespace {

constexpr std::size_t kBodyChunk = 64 * 1024;

// Fields the proxy sets itself, or that describe the client's connection to us.
bool replaced_in_request(std::string_view name) {
  return iequals(name, "Host") || iequals(name, "Content-Length") || iequals(name, "Expect") ||
         iequals(name, "X-Forwarded-For") || iequals(name, "X-Forwarded-Proto") ||
         iequals(name, "X-Forwarded-Host") || iequals(name, "Forwarded") || iequals(name, "Via");
}

// "for=" of RFC 7239: IPv6 addresses quoted in brackets.
std::string forwarded_node(std::string_view address) {
  if (address.find(':') != std::string_view::npos) {
    return fmt::format("\"[{}]\"", address);
  }
  return std::string(address);
}

std::string_view client_scheme(const Request& request) {
  return request.secure ? "https" : "http";
}

std::string_view via_version(const Request& request) {
  return request.protocol == "h2" ? "2" : "1.1";
}

// Whether a method may be sent again after a failure (RFC 9110 §9.2.2).
bool idempotent(Method method) {
  return method == Method::get || method == Method::head || method == Method::put ||
         method == Method::del || method == Method::options;
}

}  // namespace

ProxyStore::ProxyStore(ProxySettings settings, std::shared_ptr<Balancer> balancer,
                       std::string base_path, std::shared_ptr<const AddressRules> trusted)
    : settings_(std::move(settings)),
      balancer_(std::move(balancer)),
      base_path_(std::move(base_path)),
      trusted_(std::move(trusted)) {}

MethodSet ProxyStore::methods() const {
  return MethodSet{Method::get, Method::head, Method::post,
                   Method::put, Method::del,  Method::patch};
}

std::string ProxyStore::upstream_target(const RequestContext& ctx) const {
  const Request& request = ctx.request;
  // The path as the client spelled it (its percent-encoding kept), when it is a plain path.
  std::string_view raw = request.target.substr(0, request.target.find('?'));
  if (!raw.starts_with('/')) {
    raw = request.path;
  }
  const std::string& prefix = ctx.location.prefix;
  std::string_view rest = raw;
  if (prefix != "/" && rest.starts_with(prefix)) {
    rest.remove_prefix(prefix.size());
  }
  std::string target = base_path_;
  if (!target.empty() && target.back() == '/' && rest.starts_with('/')) {
    target.pop_back();
  }
  if (!rest.empty() && !rest.starts_with('/') && (target.empty() || target.back() != '/')) {
    target += '/';
  }
  target += rest;
  if (target.empty() || target[0] != '/') {
    target.insert(target.begin(), '/');
  }
  if (!request.query.empty()) {
    target += '?';
    target += request.query;
  }
  return target;
}

std::string ProxyStore::request_head(const RequestContext& ctx, const UpstreamServer& server,
                                     bool has_body, std::optional<std::uint64_t> length,
                                     std::string_view upgrade) const {
  const Request& request = ctx.request;
  std::string head;
  head.reserve(512);
  head += request.method_token;
  head += ' ';
  head += upstream_target(ctx);
  head += " HTTP/1.1\r\nHost: ";
  const std::string_view client_host = request.headers.get("Host").empty()
                                           ? request.headers.get(":authority")
                                           : request.headers.get("Host");
  head += settings_.preserve_host && !client_host.empty() ? client_host
                                                          : std::string_view(server.authority);
  head += "\r\n";
  const std::string_view connection = request.headers.get("Connection");
  const bool from_trusted =
      request.peer != nullptr && trusted_ != nullptr && trusted_->matches(request.peer->address);
  std::string forwarded_for;
  std::string forwarded;
  std::string via;
  for (const auto& [name, value] : request.headers.fields()) {
    if (name.starts_with(':')) {
      continue;  // HTTP/2 pseudo-fields
    }
    if (from_trusted && iequals(name, "X-Forwarded-For")) {
      forwarded_for = value;  // the chain a proxy we trust already made
    } else if (from_trusted && iequals(name, "Forwarded")) {
      forwarded = value;
    }
    if (iequals(name, "Via")) {
      via = value;
    }
    if (is_hop_by_hop(name, connection) || replaced_in_request(name)) {
      continue;
    }
    head += name;
    head += ": ";
    head += value;
    head += "\r\n";
  }
  const std::string_view client =
      request.peer != nullptr ? std::string_view(request.peer->address) : "unknown";
  head += "X-Forwarded-For: ";
  if (!forwarded_for.empty()) {
    head += forwarded_for;
    head += ", ";
  }
  head += client;
  fmt::format_to(std::back_inserter(head), "\r\nX-Forwarded-Proto: {}\r\n", client_scheme(request));
  if (!client_host.empty()) {
    head += "X-Forwarded-Host: ";
    head += client_host;
    head += "\r\n";
  }
  head += "Forwarded: ";
  if (!forwarded.empty()) {
    head += forwarded;
    head += ", ";
  }
  fmt::format_to(std::back_inserter(head), "for={};proto={}", forwarded_node(client),
                 client_scheme(request));
  if (!client_host.empty()) {
    fmt::format_to(std::back_inserter(head), ";host=\"{}\"", client_host);
  }
  head += "\r\nVia: ";
  if (!via.empty()) {
    head += via;
    head += ", ";
  }
  head += via_version(request);
  head += " collage\r\n";
  if (!upgrade.empty()) {
    // Hop-by-hop, so dropped above; a switch the client asked for is asked of this hop again.
    head += "Connection: Upgrade\r\nUpgrade: ";
    head += upgrade;
    head += "\r\n";
  }
  if (has_body) {
    if (length) {
      fmt::format_to(std::back_inserter(head), "Content-Length: {}\r\n", *length);
    } else {
      head += "Transfer-Encoding: chunked\r\n";
    }
  }
  head += "\r\n";
  return head;
}

void ProxyStore::rewrite_location(const RequestContext& ctx, const UpstreamServer& server,
                                  std::string& value) const {
  // As Apache's ProxyPassReverse: the upstream's own URLs become the client's.
  const std::string absolute = "http://" + server.authority + base_path_;
  std::string_view rest;
  if (value.starts_with(absolute)) {
    rest = std::string_view(value).substr(absolute.size());
  } else if (!base_path_.empty() && base_path_ != "/" && value.starts_with(base_path_)) {
    rest = std::string_view(value).substr(base_path_.size());
  } else {
    return;
  }
  const Request& request = ctx.request;
  std::string_view authority = request.headers.get("Host");
  if (authority.empty()) {
    authority = request.headers.get(":authority");
  }
  std::string prefix = ctx.location.prefix == "/" ? "" : ctx.location.prefix;
  std::string rewritten = fmt::format("{}://{}{}", client_scheme(request), authority, prefix);
  if (!rest.starts_with('/') && !rest.empty() && !rest.starts_with('?')) {
    rewritten += '/';
  }
  rewritten += rest;
  if (rewritten.size() == fmt::format("{}://{}", client_scheme(request), authority).size()) {
    rewritten += '/';
  }
  value = std::move(rewritten);
}

std::string ProxyStore::rewrite_cookie_path(const RequestContext& ctx,
                                            std::string_view cookie) const {
  // "…; Path=/base/x; …" → "…; Path=/app/x; …", as Apache's ProxyPassReverseCookiePath.
  std::string out(cookie);
  if (base_path_.empty() || base_path_ == "/") {
    return out;
  }
  std::size_t at = 0;
  while ((at = out.find(';', at)) != std::string::npos) {
    std::size_t start = at + 1;
    while (start < out.size() && out[start] == ' ') {
      ++start;
    }
    if (out.size() - start >= 5 && iequals(std::string_view(out).substr(start, 5), "Path=")) {
      const std::size_t value = start + 5;
      const std::size_t end = std::min(out.find(';', value), out.size());
      const std::string_view path = std::string_view(out).substr(value, end - value);
      if (path.starts_with(base_path_)) {
        const std::string prefix = ctx.location.prefix;
        std::string rewritten = prefix + std::string(path.substr(base_path_.size()));
        if (rewritten.size() > 1 && rewritten.starts_with("//")) {
          rewritten.erase(0, 1);
        }
        out.replace(value, end - value, rewritten.empty() ? "/" : rewritten);
      }
      break;
    }
    at = start;
  }
  return out;
}

void ProxyStore::switch_protocols(const ResponseHead& response,
                                  std::unique_ptr<gateway::UpstreamSocket> socket,
                                  std::unique_ptr<InFlight> in_flight, std::size_t consumed,
                                  std::string buffer, const std::string& upstream,
                                  Entity& out) const {
  out.reset();
  out.status = 101;
  std::string_view connection;
  for (const auto& [name, value] : response.fields) {
    if (iequals(name, "Connection")) {
      connection = value;
    }
  }
  for (const auto& [name, value] : response.fields) {
    if (iequals(name, "Upgrade")) {
      out.headers.add("Upgrade", std::string(value));  // what was switched to, for this hop too
    } else if (!is_hop_by_hop(name, connection) && !iequals(name, "Content-Length") &&
               !iequals(name, "Server")) {
      out.headers.add(std::string(name), std::string(value));  // Sec-WebSocket-Accept, …
    }
  }
  buffer.erase(0, consumed);  // after the fields above, which were views into it
  out.tunnel =
      std::make_unique<ProxyTunnel>(std::move(socket), std::move(buffer), settings_.tunnel_timeout,
                                    upstream, std::move(in_flight));
}

Task<void> ProxyStore::handle(RequestContext& ctx, Entity& out) const {
  Request& request = ctx.request;
  const bool has_body = request.body != nullptr;
  const std::optional<std::uint64_t> declared =
      has_body ? request.body->declared_length() : std::nullopt;
  std::string key;
  if (settings_.hash_key == "client") {
    key = request.peer != nullptr ? request.peer->address : "";
  } else if (settings_.hash_key.starts_with("header:")) {
    key = request.headers.get(std::string_view(settings_.hash_key).substr(7));
  } else {
    key = request.path;
  }
  const asio::any_io_executor executor = co_await asio::this_coro::executor;
  start_health_checks(balancer_, settings_.health, ctx.services, executor);
  // A WebSocket (or another switch) from an HTTP/1.1 client, whose connection can be handed over.
  const std::string_view upgrade = settings_.websockets && request.protocol == "http1" &&
                                           request.method == Method::get &&
                                           has_token(request.headers.get("Connection"), "upgrade")
                                       ? request.headers.get("Upgrade")
                                       : std::string_view();
  const bool may_retry = idempotent(request.method) && !has_body;
  std::string last_error = "no upstream server";
  int last_status = 502;
  for (UpstreamServer* server : balancer_->order(key)) {
    auto in_flight = std::make_unique<InFlight>(server);
    bool sent_anything = false;  // a request that reached a server is not sent to another
    // A pooled connection the server closed meanwhile gets one more try on a fresh one.
    for (int fresh = 0; fresh < 2; ++fresh) {
      auto socket =
          std::make_unique<gateway::UpstreamSocket>(executor, server->pool, settings_.read_timeout);
      bool reused = false;
      std::string error;
      // A connection that began with a PROXY header speaks for one client only, and one that may
      // become a tunnel is the client's: never pooled.
      const bool pooled = !settings_.send_proxy_protocol && upgrade.empty();
      if (!co_await socket->open(server->address, settings_.connect_timeout,
                                 fresh == 0 && !has_body && pooled, reused, error)) {
        balancer_->failed(*server, error);
        last_error = server->address.text + ": " + error;
        last_status = error.find("timed out") != std::string::npos ? 504 : 502;
        break;  // nothing was sent: the next server may take it
      }
      std::string head = request_head(ctx, *server, has_body, declared, upgrade);
      if (settings_.send_proxy_protocol && request.peer != nullptr) {
        head.insert(0, proxy_header_v1(request.peer->address, request.peer->port,
                                       request.peer->local_address, request.peer->local_port));
      }
      sent_anything = true;
      if (!co_await socket->write(head, error)) {
        if (reused) {
          continue;
        }
        balancer_->failed(*server, error);
        last_error = server->address.text + ": " + error;
        break;
      }
      bool body_failed = false;
      if (has_body) {
        // Streamed as it arrives, one part in memory at a time.
        std::string part(kBodyChunk, '\0');
        for (;;) {
          const BodyRead read = co_await request.body->read(std::span(part.data(), part.size()));
          if (read.error != BodyError::none) {
            if (const int status = body_error_status(read.error)) {
              out.set_error(status);
            }
            co_return;  // the client's body failed: the upstream connection is dropped
          }
          std::string_view bytes(part.data(), read.bytes);
          std::string framed;
          if (!declared) {
            framed = fmt::format("{:x}\r\n", read.bytes);
            framed.append(bytes);
            framed += "\r\n";
            if (read.bytes == 0) {
              framed = "0\r\n\r\n";
            }
            bytes = framed;
          }
          if (!bytes.empty() && !co_await socket->write(bytes, error)) {
            body_failed = true;
            break;
          }
          if (read.bytes == 0) {
            break;
          }
        }
      }
      if (body_failed) {
        balancer_->failed(*server, error);
        COLLAGE_LOG(LogLevel::error, "COL-PROXY-0001", "{} {}: upstream {} failed: {}",
                    request.method_token, printable(request.path), server->address.text, error);
        out.set_error(502);
        co_return;
      }
      // The response head, skipping interim 1xx answers.
      std::string buffer;
      ResponseHead response;
      std::size_t consumed = 0;
      HeadParse parsed = HeadParse::need_more;
      gateway::UpstreamRead read = gateway::UpstreamRead::data;
      for (;;) {
        parsed = parse_response_head(buffer, request.method == Method::head, response, consumed);
        if (parsed == HeadParse::done && response.status >= 100 && response.status < 200 &&
            response.status != 101) {
          buffer.erase(0, consumed);
          continue;
        }
        if (parsed != HeadParse::need_more) {
          break;
        }
        // Small reads: most heads (and small bodies) fit, and a larger read would zero-fill
        // memory per request for nothing.
        read = co_await socket->read_more(buffer, buffer.empty() ? 4096 : 16 * 1024);
        if (read != gateway::UpstreamRead::data) {
          break;
        }
      }
      if (parsed == HeadParse::need_more && read == gateway::UpstreamRead::closed &&
          buffer.empty() && reused) {
        continue;  // an idle connection the server had closed: try a fresh one
      }
      if (parsed == HeadParse::done && response.status == 101 && !upgrade.empty()) {
        balancer_->succeeded(*server);
        switch_protocols(response, std::move(socket), std::move(in_flight), consumed,
                         std::move(buffer), server->address.text, out);
        co_return;
      }
      if (parsed != HeadParse::done || response.status == 101) {
        const bool timed_out = read == gateway::UpstreamRead::timed_out;
        error = timed_out                  ? "no response within ProxyReadTimeout"
                : parsed == HeadParse::bad ? "a malformed response head"
                : response.status == 101   ? "a protocol switch nobody asked for"
                : buffer.empty()           ? "it closed the connection without a response"
                                           : "it closed the connection mid-head";
        balancer_->failed(*server, error);
        last_error = server->address.text + ": " + error;
        last_status = timed_out ? 504 : 502;
        if (may_retry && !timed_out && buffer.empty()) {
          break;  // nothing came back, and the method may be sent again: another server
        }
        COLLAGE_LOG(LogLevel::error, "COL-PROXY-0001", "{} {}: upstream {} failed: {}",
                    request.method_token, printable(request.path), server->address.text, error);
        out.set_error(last_status);
        co_return;
      }
      balancer_->succeeded(*server);
      out.reset();
      out.status = response.status;
      std::string_view connection;
      for (const auto& [name, value] : response.fields) {
        if (iequals(name, "Connection")) {
          connection = value;
        }
      }
      std::optional<std::uint64_t> length;
      for (const auto& [name, value] : response.fields) {
        if (is_hop_by_hop(name, connection)) {
          continue;
        }
        if (iequals(name, "Content-Length")) {
          length = response.length;
          if (request.method == Method::head || response.body == BodyKind::none) {
            length = std::strtoull(std::string(value).c_str(), nullptr, 10);
          }
        } else if (iequals(name, "Content-Type")) {
          out.set_content_type(std::string(value));
        } else if (iequals(name, "ETag")) {
          out.etag = value;
        } else if (iequals(name, "Last-Modified") && parse_http_date(value)) {
          out.last_modified = parse_http_date(value);
        } else if (settings_.rewrite_location &&
                   (iequals(name, "Location") || iequals(name, "Content-Location"))) {
          std::string rewritten(value);
          rewrite_location(ctx, *server, rewritten);
          out.headers.add(std::string(name), std::move(rewritten));
        } else if (settings_.rewrite_location && iequals(name, "Set-Cookie")) {
          out.headers.add("Set-Cookie", rewrite_cookie_path(ctx, value));
        } else if (iequals(name, "Server")) {
          continue;  // ours is sent (as nginx does); the upstream's software is its own business
        } else if (iequals(name, "Via")) {
          out.headers.add("Via", fmt::format("{}, 1.1 collage", value));
        } else {
          out.headers.add(std::string(name), std::string(value));
        }
      }
      if (!out.headers.contains("Via")) {
        out.headers.add("Via", "1.1 collage");
      }
      buffer.erase(0, consumed);  // the fields above were views into it
      if (response.body == BodyKind::none) {
        out.length = request.method == Method::head ? length : std::optional<std::uint64_t>(0);
        if (response.keep_alive && buffer.empty() && pooled) {
          socket->release_to_pool();
        }
        co_return;
      }
      if (response.body == BodyKind::length) {
        out.length = response.length;
      }
      out.stream = std::make_unique<ProxyBody>(std::move(socket), std::move(in_flight),
                                               std::move(buffer), response.body, response.length,
                                               response.keep_alive && pooled, server->address.text);
      co_return;
    }
    if (sent_anything && !may_retry) {
      break;
    }
  }
  COLLAGE_LOG(LogLevel::error, "COL-PROXY-0001", "{} {}: no upstream answered (last: {})",
              request.method_token, printable(request.path), last_error);
  out.set_error(last_status);
}

}  // namespace collage::proxy
