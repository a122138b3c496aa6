#include "fastcgi_store.h"

#include <unistd.h>

#include <algorithm>
#include <span>

#include "collage/log.h"
#include "collage/middle_end.h"
#include "request_spool.h"
#include "script_head.h"

namespace collage::fastcgi {
namespace {

constexpr std::uint16_t kRequestId = 1;  // one request per connection at a time
constexpr std::size_t kMaxHead = 64 * 1024;

void log_stderr(std::string_view upstream, std::string_view script, std::string_view text) {
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (line.ends_with('\r')) {
      line.remove_suffix(1);
    }
    if (!line.empty()) {
      COLLAGE_LOG(LogLevel::error, "COL-FASTCGI-0004", "{} ({}): {}", printable(script), upstream,
                  printable(line));
    }
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
  }
}

// The application's output after its header block, record by record; at END_REQUEST the
// connection goes back to the pool.
class FastCgiBody final : public BodyStream {
 public:
  FastCgiBody(std::string first, std::unique_ptr<UpstreamConnection> connection,
              std::string upstream, std::string script)
      : first_(std::move(first)),
        connection_(std::move(connection)),
        upstream_(std::move(upstream)),
        script_(std::move(script)) {}

  Task<StreamStatus> next(Brigade& out, std::size_t) override {
    if (!first_.empty()) {
      out.append_owned(std::move(first_));
      first_.clear();
      co_return StreamStatus::more;
    }
    for (;;) {
      Record record;
      const UpstreamRead read = co_await connection_->next(record);
      if (read != UpstreamRead::data) {
        COLLAGE_LOG(LogLevel::error, "COL-FASTCGI-0005", "{} ({}): the response broke off ({})",
                    printable(script_), upstream_,
                    read == UpstreamRead::timed_out ? "FastCgiReadTimeout" : "connection lost");
        co_return StreamStatus::failed;
      }
      if (record.type == kStdout && !record.content.empty()) {
        out.append_owned(std::string(record.content));
        co_return StreamStatus::more;
      }
      if (record.type == kStderr) {
        log_stderr(upstream_, script_, record.content);
      } else if (record.type == kEndRequest) {
        std::uint32_t app_status = 0;
        std::uint8_t protocol_status = 0;
        if (parse_end_request(record.content, app_status, protocol_status) &&
            protocol_status == kRequestComplete) {
          connection_->release_to_pool();
        }
        co_return StreamStatus::end;
      }
    }
  }

 private:
  std::string first_;
  std::unique_ptr<UpstreamConnection> connection_;
  std::string upstream_;
  std::string script_;
};

// Sends BEGIN_REQUEST and PARAMS (already in `head_records`), then the body as STDIN records
// and the empty one that ends it. 0, -1 when the connection failed (`error`), or the status for
// a client body that failed.
Task<int> send_request(UpstreamConnection& connection, const std::string& head_records,
                       bool streamed_body, int spooled_fd, const Request& request,
                       std::string& error) {
  if (!co_await connection.write(head_records, error)) {
    co_return -1;
  }
  std::string records;
  if (streamed_body || spooled_fd >= 0) {
    std::string chunk(64 * 1024, '\0');
    for (;;) {
      std::size_t n = 0;
      if (streamed_body) {
        const BodyRead read = co_await request.body->read(std::span(chunk.data(), chunk.size()));
        if (read.error != BodyError::none) {
          const int status = body_error_status(read.error);
          co_return status != 0 ? status : 400;
        }
        n = read.bytes;
      } else {
        const ssize_t got = ::read(spooled_fd, chunk.data(), chunk.size());
        n = got > 0 ? static_cast<std::size_t>(got) : 0;
      }
      if (n == 0) {
        break;
      }
      records.clear();
      append_stream(kStdin, kRequestId, std::string_view(chunk.data(), n), records);
      if (!co_await connection.write(records, error)) {
        co_return -1;
      }
    }
  }
  records.clear();
  append_record(kStdin, kRequestId, {}, records);
  co_return co_await connection.write(records, error) ? 0 : -1;
}

}  // namespace

FastCgiStore::FastCgiStore(FastCgiConfig config)
    : config_(std::move(config)), pool_(std::make_shared<ConnectionPool>(config_.keepalive)) {}

MethodSet FastCgiStore::methods() const {
  return MethodSet{Method::get, Method::head, Method::post,
                   Method::put, Method::del,  Method::patch};
}

gateway::ScriptTarget FastCgiStore::target_of(const RequestContext& ctx) const {
  std::string_view path = ctx.request.path;
  std::string_view base;
  if (config_.maps_prefix && ctx.location.prefix != "/") {
    base = ctx.location.prefix;
    path.remove_prefix(std::min(path.size(), base.size()));
  }
  std::string script(path);
  std::string path_info;
  // "/app.php/users/7": the script is /app.php, PATH_INFO /users/7 (nginx's
  // fastcgi_split_path_info).
  for (std::size_t pos = 0; pos < path.size();) {
    const std::size_t end = std::min(path.find('/', pos + 1), path.size());
    const std::string_view upto = path.substr(0, end);
    const bool ends_script =
        std::any_of(config_.split_extensions.begin(), config_.split_extensions.end(),
                    [&](const std::string& e) { return upto.ends_with(e); });
    if (ends_script) {
      script = upto;
      path_info = path.substr(end);
      break;
    }
    pos = end;
  }
  if ((script.empty() || script.ends_with('/')) && !config_.index.empty()) {
    script += script.ends_with('/') ? config_.index : "/" + config_.index;
  }
  if (!script.starts_with('/')) {
    script.insert(0, "/");
  }
  gateway::ScriptTarget target;
  target.script_name = std::string(base) + script;
  target.path_info = std::move(path_info);
  target.filename = config_.root + script;
  target.document_root = config_.root;
  return target;
}

Task<void> FastCgiStore::handle(RequestContext& ctx, Entity& out) const {
  const Request& request = ctx.request;
  const gateway::ScriptTarget target = target_of(ctx);
  const std::string& upstream = config_.upstream.text;

  // A body of declared length streams to the application as it arrives; a chunked one is
  // spooled first, since CONTENT_LENGTH must be known before it starts.
  std::optional<std::uint64_t> length;
  gateway::OwnedFd spooled;
  const bool streamed_body = request.body != nullptr && request.body->declared_length();
  if (streamed_body) {
    length = *request.body->declared_length();
  } else if (request.body != nullptr) {
    length = 0;
    if (const int status = co_await gateway::spool_request_body(
            *request.body, config_.spool_directory, spooled, *length);
        status != 0) {
      out.set_error(status);
      co_return;
    }
  } else if (request.headers.contains("Content-Length")) {
    length = 0;
  }

  std::string params;
  for (const std::string& pair :
       gateway::build_environment(ctx, target, config_.environment, length)) {
    const std::size_t eq = pair.find('=');
    append_name_value(std::string_view(pair).substr(0, eq), std::string_view(pair).substr(eq + 1),
                      params);
  }
  std::string head_records;
  append_begin_request(kRequestId, /*keep_connection=*/true, head_records);
  append_stream(kParams, kRequestId, params, head_records);
  append_record(kParams, kRequestId, {}, head_records);

  const asio::any_io_executor executor = co_await asio::this_coro::executor;
  std::unique_ptr<UpstreamConnection> connection;
  std::string error;
  Record record;
  UpstreamRead first = UpstreamRead::failed;
  // A pooled connection can be closed by the server at any moment (php-fpm recycling a worker):
  // then the request goes once more on a new connection, which is safe as long as nothing of the
  // client's body was consumed, so a body that streams through never takes a pooled one.
  for (int attempt = 0;; ++attempt) {
    connection = std::make_unique<UpstreamConnection>(executor, pool_, config_.read_timeout);
    bool reused = false;
    if (!co_await connection->open(config_.upstream, config_.connect_timeout,
                                   /*may_reuse=*/!streamed_body && attempt == 0, reused, error)) {
      COLLAGE_LOG(LogLevel::error, "COL-FASTCGI-0001", "{}: cannot connect to {}: {}; answered 502",
                  printable(target.script_name), upstream, error);
      out.set_error(502);
      co_return;
    }
    if (spooled.fd >= 0) {
      ::lseek(spooled.fd, 0, SEEK_SET);
    }
    const int status =
        co_await send_request(*connection, head_records, streamed_body, spooled.fd, request, error);
    if (status == 0) {
      first = co_await connection->next(record);
      if (first == UpstreamRead::data || first == UpstreamRead::timed_out) {
        break;
      }
      error = "the connection closed before a response";
    }
    if (!reused || status > 0) {
      if (status > 0) {
        out.set_error(status);  // the client's body failed (413, 408, 400)
        co_return;
      }
      COLLAGE_LOG(LogLevel::error, "COL-FASTCGI-0002", "{}: talking to {} failed: {}; answered 502",
                  printable(target.script_name), upstream, error);
      out.set_error(502);
      co_return;
    }
  }

  // The header block from STDOUT.
  std::string stdout_bytes;
  gateway::ScriptHead head;
  std::size_t consumed = 0;
  for (bool have = true;; have = false) {
    const UpstreamRead read = have ? first : co_await connection->next(record);
    if (read == UpstreamRead::timed_out) {
      COLLAGE_LOG(LogLevel::error, "COL-FASTCGI-0003",
                  "{}: {} sent no header within FastCgiReadTimeout; answered 504",
                  printable(target.script_name), upstream);
      out.set_error(504);
      co_return;
    }
    if (read != UpstreamRead::data) {
      COLLAGE_LOG(LogLevel::error, "COL-FASTCGI-0003",
                  "{}: {} closed the connection before a "
                  "header; answered 502",
                  printable(target.script_name), upstream);
      out.set_error(502);
      co_return;
    }
    if (record.type == kStderr) {
      log_stderr(upstream, target.script_name, record.content);
      continue;
    }
    if (record.type == kEndRequest) {
      COLLAGE_LOG(LogLevel::error, "COL-FASTCGI-0003",
                  "{}: {} ended the request without a "
                  "complete header; answered 502",
                  printable(target.script_name), upstream);
      out.set_error(502);
      co_return;
    }
    if (record.type != kStdout) {
      continue;
    }
    stdout_bytes.append(record.content);
    const gateway::HeadResult parsed =
        gateway::parse_script_head(stdout_bytes, false, head, consumed, error);
    if (parsed == gateway::HeadResult::complete) {
      break;
    }
    if (parsed == gateway::HeadResult::malformed || stdout_bytes.size() > kMaxHead) {
      COLLAGE_LOG(LogLevel::error, "COL-FASTCGI-0003", "{}: bad header from {}: {}; answered 502",
                  printable(target.script_name), upstream,
                  parsed == gateway::HeadResult::malformed ? error : "larger than 64 KiB");
      out.set_error(502);
      co_return;
    }
  }
  if (head.status == 0 && head.location.starts_with('/')) {
    co_await respond_internal(ctx, head.location, out);  // a local redirect (RFC 3875 §6.2.2)
    co_return;
  }
  gateway::apply_script_head(head, out);
  out.body.clear();
  out.length.reset();
  out.stream = std::make_unique<FastCgiBody>(stdout_bytes.substr(consumed), std::move(connection),
                                             upstream, target.script_name);
}

}  // namespace collage::fastcgi
