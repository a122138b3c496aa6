#include "gopher_connection.h"

#include <optional>

#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <asio/experimental/awaitable_operators.hpp>
#include <ctime>

#include "collage/cache.h"
#include "collage/generation.h"
#include "collage/log.h"
#include "collage/menu.h"
#include "collage/middle_end.h"
#include "collage/path.h"
#include "collage/scoreboard.h"
#include "collage/status.h"
#include "collage/wire.h"

namespace collage::gopher_protocol {

void split_selector_line(std::string_view line, std::string_view& selector,
                         std::string_view& search) {
  const std::size_t tab = line.find('\t');
  selector = line.substr(0, tab);
  search = {};
  if (tab != std::string_view::npos) {
    search = line.substr(tab + 1);
    search = search.substr(0, search.find('\t'));
    if (search == "$" || search == "+" || search == "!") {
      search = {};  // Gopher+ request markers, not search words
    }
  }
}

void append_text_item(std::string_view piece, bool& at_line_start, std::string& out) {
  for (char c : piece) {
    if (at_line_start && c == '.') {
      out += '.';
    }
    if (c == '\n') {
      if (out.empty() || out.back() != '\r') {
        out += '\r';
      }
      out += '\n';
      at_line_start = true;
      continue;
    }
    out += c;
    at_line_start = false;
  }
}

void finish_text_item(bool at_line_start, std::string& out) {
  if (!at_line_start) {
    out += "\r\n";
  }
  out += ".\r\n";
}

std::string error_menu(int status, std::string_view selector) {
  std::string out;
  MenuItem item;
  item.type = '3';
  // The selector is the client's: its bytes are shown escaped (a NUL, a tab or a terminal escape
  // must not reach the client's screen or split the menu line), and at most 200 of them.
  constexpr std::size_t kShown = 200;
  item.display = std::string(reason_phrase(status)) + ": " + printable(selector.substr(0, kShown));
  if (selector.size() > kShown) {
    item.display += "...";
  }
  item.host = "error.host";
  item.port = "1";
  append_menu_line(item, out);
  out += ".\r\n";
  return out;
}

Connection::Connection(std::unique_ptr<Transport> transport, ConnectionContext context,
                       const Settings& settings)
    : transport_(std::move(transport)),
      socket_(transport_->socket()),
      watchdog_(socket_.get_executor(),
                [this] {
                  asio::error_code ec;
                  socket_.close(ec);
                  return true;
                }),
      context_(std::move(context)),
      settings_(settings) {
  tracker_handle_ = context_.services->connections().add(this);
  transport_->set_before_write_wait(
      [this] { watchdog_.set_deadline(Watchdog::Clock::now() + settings_.timeout); });
  peer_ = context_.peer != nullptr ? *context_.peer : transport_->peer_info();
  if (context_.score != nullptr) {
    context_.score->set_client(peer_.address);
  }
}

Connection::~Connection() {
  context_.services->connections().remove(tracker_handle_);
}

void Connection::drain() {
  if (idle_) {
    asio::error_code ec;
    socket_.close(ec);
  }
}

Task<void> Connection::run() {
  // The watchdog closes the socket on its deadline, which ends session().
  watchdog_.set_deadline(Watchdog::Clock::now() + settings_.timeout);
  watchdog_.start();
  co_await session();
  watchdog_.stop();
  asio::error_code ec;
  socket_.close(ec);
}

Task<bool> Connection::read_line(std::string& line) {
  std::array<char, 1024> buffer;
  for (;;) {
    auto [ec, n] = co_await transport_->read_some(asio::buffer(buffer));
    if (ec || n == 0) {
      co_return false;
    }
    idle_ = false;
    line.append(buffer.data(), n);
    const std::size_t lf = line.find('\n');
    if (lf != std::string::npos) {
      line.resize(lf);
      if (!line.empty() && line.back() == '\r') {
        line.pop_back();
      }
      co_return true;
    }
    if (line.size() > settings_.max_selector) {
      co_return true;  // the caller sees the length and refuses it
    }
  }
}

Task<bool> Connection::send(std::string_view data, bool more) {
  bytes_sent_ += data.size();
  co_return co_await transport_->write(data, more) == WireResult::ok;
}

Task<void> Connection::session() {
  std::string line;
  if (!co_await read_line(line)) {
    co_return;  // closed or timed out before a selector arrived
  }
  if (context_.score != nullptr) {
    context_.score->begin_request(printable(line.substr(0, 120)));
  }
  if (line.size() > settings_.max_selector) {
    COLLAGE_LOG(LogLevel::info, "COL-GOPHER-0001", "{}:{}: selector longer than {} bytes refused",
                peer_.address, peer_.port, settings_.max_selector);
    co_await send(error_menu(414, "selector too long"), false);
    log_access("-", 414, bytes_sent_);
    co_return;
  }
  std::string_view selector;
  std::string_view search;
  split_selector_line(line, selector, search);

  if (selector.starts_with("URL:")) {
    // Links to the web in menus; clients that do not know them fetch this page instead.
    std::string url;
    append_html_escaped(selector.substr(4), url);
    const std::string page =
        "<!DOCTYPE html>\n<html><head><meta http-equiv=\"refresh\" content=\"0;url=" + url +
        "\"></head><body><a href=\"" + url + "\">" + url + "</a></body></html>\n";
    co_await send(page, false);
    log_access(selector, 200, bytes_sent_);
    co_return;
  }

  Request request;
  request.protocol = "gopher";
  request.method = Method::get;
  request.method_token = "GET";
  request.target = selector;
  request.query = search;
  request.peer = &peer_;
  request.received = std::chrono::system_clock::now();
  request.host = context_.listener->config.host;
  // Selectors are raw bytes, not percent-encoded: escape '%' so normalization keeps it literal.
  std::string escaped = selector.starts_with('/') ? "" : "/";
  for (char c : selector) {
    escaped += c == '%' ? std::string_view("%25") : std::string_view(&c, 1);
  }
  Entity entity;
  switch (normalize_path(escaped, request.path)) {
    case PathResult::ok: break;
    default:
      COLLAGE_LOG(LogLevel::info, "COL-GOPHER-0002", "{}:{}: refused selector '{}'", peer_.address,
                  peer_.port, printable(selector));
      co_await send(error_menu(400, selector), false);
      log_access(selector, 400, bytes_sent_, {}, &request);
      co_return;
  }
  // The quick path first: a fresh stored response, before routing. The context, when the full
  // path makes one, lives until the response is written.
  std::optional<RequestContext> ctx;
  const QuickCache* quick = context_.generation->quick_cache();
  if (quick == nullptr || !within_address_rate(*context_.generation, request, *context_.services) ||
      !quick->answer(request, entity)) {
    co_await respond(ctx.emplace(route(*context_.generation, request, *context_.services)), entity);
  }
  if (entity.status >= 300) {
    co_await send(error_menu(entity.status, selector), false);
  } else {
    co_await write_entity(entity);
  }
  log_access(selector, entity.status, bytes_sent_, entity.headers.get("Cache-Status"), &request);
  transport_->shutdown_send();
}

Task<bool> Connection::write_entity(Entity& entity) {
  // Menus and text items end with a lone "." line; binary items with the connection's close.
  const bool menu = entity.content_type == kMenuContentType;
  const bool text =
      !menu && settings_.text_framing && entity.content_type.starts_with("text/plain");
  // The ready body, then a streamed one part by part, each written before the next is pulled.
  BodyWalk walk(entity);
  Brigade part;
  TextState state;
  StreamStatus status = StreamStatus::more;
  while (status == StreamStatus::more) {
    status = co_await walk.next(part);
    if (status == StreamStatus::failed) {
      co_return false;  // no closing "." line: the client must not take it as complete
    }
    const bool last = status == StreamStatus::end;
    const bool ok =
        text ? co_await write_text(part, state, last) : co_await write_binary(part, last);
    if (!ok) {
      co_return false;
    }
  }
  co_return !menu || co_await send(".\r\n", false);
}

Task<bool> Connection::write_binary(const Brigade& part, bool last) {
  // Binary items go out byte for byte; files with sendfile.
  const auto& buckets = part.buckets();
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    const Bucket& b = buckets[i];
    if (b.kind == Bucket::Kind::memory) {
      if (!co_await send(b.bytes, !(last && i + 1 == buckets.size()))) {
        co_return false;
      }
    } else {
      if (co_await transport_->write_file(b) != WireResult::ok) {
        co_return false;
      }
      bytes_sent_ += b.length;
    }
  }
  co_return true;
}

Task<bool> Connection::write_text(const Brigade& part, TextState& state, bool last) {
  std::array<char, 32 * 1024> chunk;
  for (const Bucket& b : part.buckets()) {
    if (b.kind == Bucket::Kind::memory) {
      append_text_item(b.bytes, state.at_line_start, state.out);
    } else {
      std::uint64_t offset = b.offset;
      std::uint64_t left = b.length;
      while (left > 0) {
        const ssize_t n =
            ::pread(b.file->fd(), chunk.data(),
                    static_cast<std::size_t>(std::min<std::uint64_t>(left, chunk.size())),
                    static_cast<off_t>(offset));
        if (n <= 0) {
          co_return false;
        }
        append_text_item(std::string_view(chunk.data(), static_cast<std::size_t>(n)),
                         state.at_line_start, state.out);
        offset += static_cast<std::uint64_t>(n);
        left -= static_cast<std::uint64_t>(n);
        if (state.out.size() >= 64 * 1024) {
          if (!co_await send(state.out, true)) {
            co_return false;
          }
          state.out.clear();
        }
      }
    }
  }
  if (last) {
    finish_text_item(state.at_line_start, state.out);
  }
  const bool ok = co_await send(state.out, !last);
  state.out.clear();
  co_return ok;
}

void Connection::log_access(std::string_view selector, int status, std::uint64_t bytes,
                            std::string_view cache_status, const Request* request) {
  if (context_.score != nullptr) {
    context_.score->finish_request(bytes);
  }
  if (!context_.generation->logs_requests() && !context_.generation->counts_requests()) {
    return;
  }
  std::string request_line = "GOPHER ";
  request_line += selector;
  context_.generation->log_request(AccessRecord{.client = peer_.address,
                                                .request_line = request_line,
                                                .status = status,
                                                .bytes = bytes,
                                                .cache_status = cache_status,
                                                .protocol = "gopher",
                                                .request = request});
}

}  // namespace collage::gopher_protocol
