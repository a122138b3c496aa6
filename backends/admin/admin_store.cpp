#include "admin_store.h"

#include <openssl/crypto.h>
#include <pwd.h>

#include <charconv>

#include "admin.pb.h"
#include "admin_messages.h"
#include "collage/control_channel.h"
#include "collage/generation.h"
#include "collage/log.h"
#include "collage/middle_end.h"
#include "collage/path.h"
#include "collage/scoreboard.h"

namespace collage::admin {
namespace {

using namespace std::chrono_literals;

// An apply waits for the new children to start; anything else is quick.
constexpr auto kControlTimeout = 60s;

bool is_unix(const Request& request) {
  return request.peer != nullptr && request.peer->listener != nullptr &&
         request.peer->listener->config.unix_socket();
}

// Who asked, for the error log and the generation history.
std::string caller_of(const Request& request) {
  if (request.peer == nullptr) {
    return "unknown";
  }
  if (request.peer->unix_uid >= 0) {
    const passwd* user = ::getpwuid(static_cast<uid_t>(request.peer->unix_uid));
    return "uid " + std::to_string(request.peer->unix_uid) +
           (user != nullptr ? std::string(" (") + user->pw_name + ")" : "");
  }
  return "token holder at " + request.peer->address;
}

// A query parameter's value, percent-decoded ("+" is a space, as forms send it).
std::string query_value(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const std::string_view pair = query.substr(0, query.find('&'));
    query.remove_prefix(std::min(query.size(), pair.size() + 1));
    const std::size_t equals = pair.find('=');
    if (pair.substr(0, equals) != name) {
      continue;
    }
    const std::string_view raw = equals == std::string_view::npos ? "" : pair.substr(equals + 1);
    std::string value;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '%' && i + 2 < raw.size() + 0 && hex_digit_value(raw[i + 1]) >= 0 &&
          hex_digit_value(raw[i + 2]) >= 0) {
        value += static_cast<char>(hex_digit_value(raw[i + 1]) * 16 + hex_digit_value(raw[i + 2]));
        i += 2;
      } else {
        value += raw[i] == '+' ? ' ' : raw[i];
      }
    }
    return value.empty() ? "1" : value;  // "?persist" alone means yes
  }
  return {};
}

bool query_flag(std::string_view query, std::string_view name) {
  const std::string value = query_value(query, name);
  return value == "1" || value == "true" || value == "on" || value == "yes";
}

Task<std::optional<std::string>> read_body(Request& request, Entity& out) {
  std::string body;
  if (request.body == nullptr) {
    co_return body;
  }
  std::array<char, 16384> buffer;
  for (;;) {
    const BodyRead read = co_await request.body->read(buffer);
    if (read.error != BodyError::none) {
      out.set_error(400);
      co_return std::nullopt;
    }
    if (read.bytes == 0) {
      co_return body;
    }
    body.append(buffer.data(), read.bytes);
    if (body.size() > kMaxControlMessage) {
      out.set_error(413);
      co_return std::nullopt;
    }
  }
}

bool is_xml(std::string_view type) {
  return type.starts_with("application/xml") || type.starts_with("text/xml");
}

struct Exchange {
  Request& request;
  Entity& out;
  bool binary_in = false;
  bool binary_out = false;

  void answer(const google::protobuf::Message& message, int status = 200) {
    out.set_body(encode_message(message, binary_out),
                 binary_out ? kProtobufType : std::string_view("application/json"));
    out.status = status;
    out.headers.set("Cache-Control", "no-store");
  }
  void fail(int status, const std::string& message) {
    ErrorReply reply;
    reply.set_status(status);
    reply.set_message(message);
    answer(reply, status);
  }
  // Sends one request to the control process; null (answered 503) when it did not answer.
  Task<std::optional<ControlReply>> call(ControlRequest& control) {
    control.set_caller(caller_of(request));
    std::optional<std::string> bytes =
        co_await ask_control_process(control.SerializeAsString(), kControlTimeout);
    ControlReply reply;
    if (!bytes || !reply.ParseFromString(*bytes)) {
      fail(503, "the control process did not answer (the error log says why)");
      co_return std::nullopt;
    }
    if (!reply.refused().empty()) {
      fail(400, reply.refused());
      co_return std::nullopt;
    }
    co_return reply;
  }
};

// A candidate from the body: XML as it is (with persist and comment in the query), or a
// Candidate message.
bool candidate_from(const Request& request, std::string_view body, bool binary, Candidate& out,
                    std::string& error) {
  if (is_xml(request.headers.get("Content-Type"))) {
    out.set_xml(std::string(body));
  } else if (!decode_message(body, binary, out, error)) {
    return false;
  }
  out.set_persist(out.persist() || query_flag(request.query, "persist"));
  if (out.comment().empty()) {
    out.set_comment(query_value(request.query, "comment"));
  }
  return true;
}

StatusView status_view() {
  StatusView view;
  const Scoreboard* board = running_scoreboard();
  if (board == nullptr) {
    return view;
  }
  const ScoreboardGlobal& global = board->global();
  view.set_mpm(global.mpm);
  view.set_generation(global.generation.load());
  view.set_started_ms(global.started_ms.load());
  view.set_restarted_ms(global.restarted_ms.load());
  view.set_control_pid(global.parent.load());
  std::uint64_t requests = global.requests_of_exited.load();
  std::uint32_t connections = 0;
  for (std::uint32_t slot = 0; slot < board->servers(); ++slot) {
    const ChildScore& score = board->child(slot);
    const ChildStatus status = score.status.load();
    if (status == ChildStatus::empty) {
      continue;
    }
    ChildView& child = *view.add_children();
    child.set_slot(slot);
    child.set_pid(score.pid.load());
    child.set_generation(score.generation.load());
    child.set_status(status == ChildStatus::starting   ? "starting"
                     : status == ChildStatus::stopping ? "stopping"
                                                       : "ready");
    child.set_connections(score.connections.load());
    child.set_busy(score.busy.load());
    child.set_accepted(score.accepted.load());
    child.set_requests(score.requests.load());
    child.set_started_ms(score.started_ms.load());
    requests += child.requests();
    connections += child.connections();
  }
  view.set_requests(requests);
  view.set_connections(connections);
  return view;
}

// POST /cache/purge: the URL routed as a GET of it would be, then every cache provider of the
// location it reaches drops what it keeps for it.
Task<void> purge(RequestContext& ctx, const PurgeRequest& wanted, Exchange& exchange) {
  std::string_view url = wanted.url();
  const bool secure = url.starts_with("https://");
  std::string host;
  if (url.starts_with("http://") || secure) {
    url.remove_prefix(secure ? 8 : 7);
    const std::size_t slash = std::min(url.find('/'), url.size());
    host = std::string(url.substr(0, std::min(url.find(':'), slash)));
    url.remove_prefix(slash);
  }
  for (char& c : host) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  const std::string target = url.empty() ? std::string("/") : std::string(url);
  const std::string_view path_part = std::string_view(target).substr(0, target.find('?'));
  Request request;
  request.protocol = "http1";
  request.method = Method::get;
  request.method_token = "GET";
  request.target = target;
  request.host = host;
  request.secure = secure;
  // The caller, but not its admin listener: the URL is routed as the public listeners route it.
  PeerInfo peer = ctx.request.peer != nullptr ? *ctx.request.peer : PeerInfo{};
  peer.listener = nullptr;
  request.peer = &peer;
  request.received = std::chrono::system_clock::now();
  if (!target.starts_with('/') || normalize_path(path_part, request.path) != PathResult::ok ||
      ctx.generation == nullptr) {
    exchange.fail(400, "url must be a path or an http(s) URL whose path is valid");
    co_return;
  }
  if (path_part.size() < target.size()) {
    request.query = std::string_view(target).substr(path_part.size() + 1);
  }
  if (wanted.prefix()) {
    request.path += '*';
  }
  RequestContext routed = route(*ctx.generation, request, ctx.services);
  std::uint64_t purged = 0;
  for (const auto& cache : routed.location.caches) {
    purged += co_await cache->purge(routed);
  }
  COLLAGE_LOG(LogLevel::notice, "COL-ADMIN-0014", "cache purge by {}: {}{} removed {} entries",
              caller_of(ctx.request), wanted.url(), wanted.prefix() ? " (prefix)" : "", purged);
  PurgeResult result;
  result.set_purged(purged);
  exchange.answer(result);
}

}  // namespace

bool AdminStore::admitted(const Request& request, Entity& out) const {
  if (is_unix(request)) {
    return true;  // the socket file's mode and owner chose who may connect
  }
  asio::error_code ec;
  const auto address =
      asio::ip::make_address(request.peer != nullptr ? request.peer->address : "", ec);
  if (!settings_.allow_public && (ec || !address.is_loopback())) {
    COLLAGE_LOG(LogLevel::warn, "COL-ADMIN-0020", "admin API: {} is not a loopback caller; refused",
                request.peer != nullptr ? request.peer->address : "-");
    out.set_error(403);
    return false;
  }
  const std::string_view authorization = request.headers.get("Authorization");
  constexpr std::string_view kBearer = "Bearer ";
  const std::string_view given = authorization.starts_with(kBearer)
                                     ? authorization.substr(kBearer.size())
                                     : std::string_view();
  // Compared in constant time: how long a wrong guess took says nothing about the token.
  const bool match = !settings_.token.empty() && given.size() == settings_.token.size() &&
                     CRYPTO_memcmp(given.data(), settings_.token.data(), given.size()) == 0;
  if (!match) {
    COLLAGE_LOG(LogLevel::warn, "COL-ADMIN-0021", "admin API: {} sent {}; refused",
                request.peer != nullptr ? request.peer->address : "-",
                given.empty() ? "no bearer token" : "a wrong bearer token");
    out.set_error(401);
    out.headers.set("WWW-Authenticate", "Bearer realm=\"collage-admin\"");
    return false;
  }
  return true;
}

Task<void> AdminStore::handle(RequestContext& ctx, Entity& out) const {
  Request& request = ctx.request;
  if (!admitted(request, out)) {
    co_return;
  }
  Exchange exchange{request, out};
  exchange.binary_in = request.headers.get("Content-Type").starts_with(kProtobufType);
  exchange.binary_out = request.headers.get("Accept").starts_with(kProtobufType) ||
                        (exchange.binary_in && !request.headers.contains("Accept"));
  const std::string_view path = request.path;
  const Method method = request.method;
  const bool reads = method == Method::get || method == Method::head;
  std::optional<std::string> body;
  if (!reads) {
    body = co_await read_body(request, out);
    if (!body) {
      co_return;
    }
  }
  std::string error;
  ControlRequest control;

  if (path == "/status" && reads) {
    exchange.answer(status_view());
    co_return;
  }
  if ((path == "/config" || path == "/config.xml" || path == "/config.json") && reads) {
    ConfigRequest& get = *control.mutable_get_config();
    get.set_effective(query_value(request.query, "form") != "source");
    get.set_defaults(query_flag(request.query, "defaults"));
    std::optional<ControlReply> reply = co_await exchange.call(control);
    if (!reply) {
      co_return;
    }
    if (path == "/config.xml") {
      out.set_body(reply->config().xml(), "application/xml; charset=utf-8");
      out.headers.set("Cache-Control", "no-store");
    } else if (path == "/config.json") {
      exchange.binary_out = false;
      exchange.answer(reply->config().json());
    } else {
      exchange.answer(reply->config());
    }
    co_return;
  }
  if ((path == "/config/validate" || path == "/config") &&
      (method == Method::post || method == Method::put)) {
    const bool validate = path == "/config/validate";
    Candidate& candidate = validate ? *control.mutable_validate() : *control.mutable_apply();
    if (!candidate_from(request, *body, exchange.binary_in, candidate, error)) {
      exchange.fail(400, error);
      co_return;
    }
    std::optional<ControlReply> reply = co_await exchange.call(control);
    if (!reply) {
      co_return;
    }
    if (validate) {
      exchange.answer(reply->validated());
    } else {
      exchange.answer(reply->applied(), reply->applied().ok() ? 200 : 422);
    }
    co_return;
  }
  if (path == "/config/tree" || path.starts_with("/config/tree/")) {
    TreeChange& change = *control.mutable_change();
    change.set_path(std::string(path.substr(std::min(path.size(), std::size_t{13}))));
    change.set_operation(reads                    ? TreeChange::GET
                         : method == Method::put  ? TreeChange::REPLACE
                         : method == Method::post ? TreeChange::ADD
                                                  : TreeChange::REMOVE);
    if (body) {
      change.set_xml(*body);
    }
    change.set_persist(query_flag(request.query, "persist"));
    change.set_comment(query_value(request.query, "comment"));
    std::optional<ControlReply> reply = co_await exchange.call(control);
    if (!reply) {
      co_return;
    }
    const TreeResult& result = reply->changed();
    if (reads && result.ok() && !exchange.binary_out &&
        !request.headers.get("Accept").starts_with("application/json")) {
      out.set_body(result.xml() + "\n", "application/xml; charset=utf-8");
      out.headers.set("Cache-Control", "no-store");
    } else {
      exchange.answer(result, result.ok() ? 200 : result.applied().errors_size() > 0 ? 422 : 404);
    }
    co_return;
  }
  if (path == "/generations" && reads) {
    control.set_list_generations(true);
    if (std::optional<ControlReply> reply = co_await exchange.call(control)) {
      exchange.answer(reply->generations());
    }
    co_return;
  }
  if (path == "/rollback" && method == Method::post) {
    RollbackRequest& rollback = *control.mutable_rollback();
    if (!body->empty() && !decode_message(*body, exchange.binary_in, rollback, error)) {
      exchange.fail(400, error);
      co_return;
    }
    const std::string to = query_value(request.query, "to");
    std::uint32_t number = 0;
    if (!to.empty() &&
        std::from_chars(to.data(), to.data() + to.size(), number).ec != std::errc{}) {
      exchange.fail(400, "to= takes a generation number");
      co_return;
    }
    if (number != 0) {
      rollback.set_to(number);
    }
    rollback.set_persist(rollback.persist() || query_flag(request.query, "persist"));
    if (std::optional<ControlReply> reply = co_await exchange.call(control)) {
      exchange.answer(reply->applied(), reply->applied().ok() ? 200 : 422);
    }
    co_return;
  }
  if (path == "/cache/purge" && method == Method::post) {
    PurgeRequest wanted;
    if (is_xml(request.headers.get("Content-Type")) ||
        !decode_message(*body, exchange.binary_in, wanted, error)) {
      exchange.fail(400, error.empty() ? "the body must be a PurgeRequest" : error);
      co_return;
    }
    co_await purge(ctx, wanted, exchange);
    co_return;
  }
  const bool known = path == "/cache/purge" || path == "/status" || path == "/config" ||
                     path == "/config.xml" || path == "/config.json" ||
                     path == "/config/validate" || path == "/generations" || path == "/rollback";
  exchange.fail(known ? 405 : 404,
                known ? "method not allowed here (docs/admin-api.md lists each endpoint's)"
                      : "no such endpoint: /config, /config.xml, /config.json, /config/validate, "
                        "/config/tree/PATH, /generations, /rollback, /status, /cache/purge");
}

}  // namespace collage::admin
