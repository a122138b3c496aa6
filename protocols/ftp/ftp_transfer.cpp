// The data channel: passive and active connections (with the checks against FTP bounce and data
// connection theft), TLS on it when PROT P, and the transfers themselves.

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <asio/connect.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/ssl/error.hpp>
#include <cstring>
#include <random>

#include "collage/cache.h"
#include "collage/generation.h"
#include "collage/log.h"
#include "collage/middle_end.h"
#include "collage/scoreboard.h"
#include "collage/tls.h"
#include "ftp_metrics.h"
#include "ftp_session.h"

namespace collage::ftp {

// A PUT body read from the data connection; FTP's stream mode ends the body with the end of the
// connection. TYPE A turns CRLF into LF as it goes.
class DataBody final : public BodySource {
 public:
  explicit DataBody(Session& session) : session_(session) {}

  Task<BodyRead> read(std::span<char> into) override {
    Session& s = session_;
    for (;;) {
      if (!pending_.empty()) {
        const std::size_t take = std::min(into.size(), pending_.size());
        std::memcpy(into.data(), pending_.data(), take);
        pending_.erase(0, take);
        co_return BodyRead{take, BodyError::none};
      }
      if (ended_ || !s.data_) {
        co_return BodyRead{0, ended_ ? BodyError::none : BodyError::closed};
      }
      std::array<char, 64 * 1024> buffer;
      auto [ec, n] = co_await s.data_->read_some(asio::buffer(buffer));
      s.watchdog_.set_deadline(Watchdog::Clock::now() + s.settings_.data_timeout);
      if (s.aborted_) {
        co_return BodyRead{0, BodyError::closed};
      }
      // Only a clean end of the connection ends the body: a FIN (under TLS, the client's
      // close_notify; a bare FIN there is truncation) while the control connection is still up
      // to hear the 226. A reset, truncation or a client that died aborts the upload.
      if ((n == 0 && !ec) || ec == asio::error::eof) {
        if (!co_await s.control_stays_up()) {
          COLLAGE_LOG(LogLevel::info, "COL-FTP-0009",
                      "{}: control connection gone when the upload ended; discarding it",
                      s.peer_.address);
          co_return BodyRead{0, BodyError::closed};
        }
        ended_ = true;
        s.data_clean_end_ = true;
        if (previous_cr_) {
          pending_ += '\r';
          previous_cr_ = false;
        }
        continue;
      }
      if (ec) {
        co_return BodyRead{0, BodyError::closed};
      }
      s.transferred_ += n;
      if (s.ascii_) {
        from_network_ascii(std::string_view(buffer.data(), n), previous_cr_, pending_);
      } else {
        pending_.append(buffer.data(), n);
      }
    }
  }
  std::optional<std::uint64_t> declared_length() const override { return std::nullopt; }

 private:
  Session& session_;
  std::string pending_;
  bool ended_ = false;
  bool previous_cr_ = false;
};

Task<bool> Session::passive(bool extended) {
  close_data_setup();
  const auto local = control_->socket().local_endpoint();
  auto acceptor = std::make_unique<asio::ip::tcp::acceptor>(executor_);
  asio::error_code ec;
  acceptor->open(local.protocol(), ec);
  // A port of a narrow FtpPassivePorts range is taken again at once, not after TIME_WAIT.
  asio::error_code ignored;
  acceptor->set_option(asio::socket_base::reuse_address(true), ignored);
  bool bound = false;
  if (!ec) {
    if (settings_.passive_min == 0) {
      acceptor->bind(asio::ip::tcp::endpoint(local.address(), 0), ec);
      bound = !ec;
    } else {
      // Start at a random port of the range so sessions do not all race for the first one.
      thread_local std::mt19937 random{std::random_device{}()};
      const unsigned span = settings_.passive_max - settings_.passive_min + 1u;
      const unsigned start = random() % span;
      for (unsigned i = 0; i < span && !bound; ++i) {
        const auto port = static_cast<std::uint16_t>(settings_.passive_min + (start + i) % span);
        acceptor->bind(asio::ip::tcp::endpoint(local.address(), port), ec);
        bound = !ec;
      }
    }
  }
  if (bound) {
    acceptor->listen(1, ec);
  }
  if (!bound || ec) {
    COLLAGE_LOG(LogLevel::error, "COL-FTP-0005", "no passive port free for {}", peer_.address);
    co_return co_await reply(425, "Cannot open passive connection.");
  }
  const std::uint16_t port = acceptor->local_endpoint().port();
  passive_ = std::move(acceptor);
  if (extended) {
    co_return co_await reply(229, fmt::format("Entering Extended Passive Mode (|||{}|)", port));
  }
  const std::string address =
      settings_.passive_address.empty() ? local.address().to_string() : settings_.passive_address;
  const std::string tuple = pasv_tuple(address, port);
  if (tuple.empty()) {
    close_data_setup();
    co_return co_await reply(522, "PASV needs IPv4; use EPSV.");
  }
  co_return co_await reply(227, "Entering Passive Mode " + tuple + ".");
}

Task<bool> Session::active(std::string_view argument, bool extended) {
  close_data_setup();
  const std::optional<HostPort> target =
      extended ? parse_eprt_argument(argument) : parse_port_argument(argument);
  if (!target) {
    co_return co_await reply(501, "Syntax error in PORT/EPRT argument.");
  }
  asio::error_code ec;
  const auto address = asio::ip::make_address(target->address, ec);
  const auto peer = control_->socket().remote_endpoint().address();
  // No FTP bounce (RFC 2577): data only to the client itself, and never to a privileged port.
  if (ec || address != peer || target->port < 1024) {
    COLLAGE_LOG(LogLevel::warn, "COL-FTP-0006",
                "{}: refused {} {}:{} (not the client, or port < 1024)", peer_.address,
                extended ? "EPRT" : "PORT", target->address, target->port);
    co_return co_await reply(500, "Illegal PORT command.");
  }
  active_ = asio::ip::tcp::endpoint(address, target->port);
  co_return co_await reply(200, "PORT command successful. Consider using PASV.");
}

void Session::close_data_setup() {
  asio::error_code ec;
  if (passive_) {
    passive_->close(ec);
    passive_.reset();
  }
  active_.reset();
}

Task<std::unique_ptr<Transport>> Session::open_data() {
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer timer(executor_);
  timer.expires_after(settings_.data_timeout);
  // The timer below and the TLS handshake bound the wait; the session's watchdog rests meanwhile.
  watchdog_.set_deadline(Watchdog::Clock::time_point::max());
  std::unique_ptr<Transport> data;
  if (passive_) {
    const auto peer = control_->socket().remote_endpoint().address();
    while (!data) {
      auto result = co_await (passive_->async_accept(kAsTuple) || timer.async_wait(kAsTuple));
      if (result.index() == 1) {
        break;
      }
      auto [ec, socket] = std::move(std::get<0>(result));
      if (ec) {
        break;
      }
      asio::error_code ignored;
      if (socket.remote_endpoint(ignored).address() != peer) {
        // Data connection theft: only the client on the control connection may connect.
        COLLAGE_LOG(LogLevel::warn, "COL-FTP-0007", "{}: passive connection from {} refused",
                    peer_.address, socket.remote_endpoint(ignored).address().to_string());
        continue;
      }
      data = make_tcp_transport(std::move(socket));
    }
  } else if (active_) {
    asio::ip::tcp::socket socket(executor_);
    auto result = co_await (socket.async_connect(*active_, kAsTuple) || timer.async_wait(kAsTuple));
    if (result.index() == 0 && !std::get<0>(std::get<0>(result))) {
      data = make_tcp_transport(std::move(socket));
    }
  }
  close_data_setup();
  if (data && protect_data_) {
    // No session tickets on data connections: clients that never read there close with the
    // tickets unread, and the reset that follows destroys the end of an upload.
    data = co_await context_.generation->tls()->accept(std::move(data), nullptr,
                                                       settings_.data_timeout, false);
  }
  watchdog_.set_deadline(Watchdog::Clock::now() + settings_.data_timeout);
  if (data) {
    data->set_services(context_.services);
    data->set_before_write_wait(
        [this] { watchdog_.set_deadline(Watchdog::Clock::now() + settings_.data_timeout); });
  }
  co_return data;
}

void Session::abort_transfer() {
  if (transferring_) {
    aborted_ = true;
    if (data_) {
      data_->close();
    }
    close_data_setup();
  }
}

Task<void> Session::wait_for_transfer() {
  while (transferring_) {
    transfer_done_.expires_at(asio::steady_timer::time_point::max());
    co_await transfer_done_.async_wait(kAsTuple);
  }
}

Task<void> Session::transfer(std::string verb, std::string argument) {
  if (context_.score != nullptr) {
    context_.score->begin_request(printable(verb + " " + argument.substr(0, 100)));
  }
  const std::uint64_t restart = std::exchange(restart_at_, 0);
  if (verb == "RETR") {
    restart_at_ = restart;
    co_await retrieve(argument);
  } else if (verb == "STOR" || verb == "APPE" || verb == "STOU") {
    restart_at_ = restart;
    co_await store(argument, verb == "APPE", verb == "STOU");
  } else {
    co_await send_listing(verb, argument);
  }
  restart_at_ = 0;
  data_.reset();
  close_data_setup();
  transferring_ = false;
  transfer_done_.cancel();
  // The control connection is idle again from now (its read may already be waiting).
  watchdog_.set_deadline(Watchdog::Clock::now() + settings_.idle_timeout);
  if (context_.score != nullptr) {
    context_.score->set_state(WorkerState::keepalive);
  }
}

Task<void> Session::retrieve(const std::string& argument) {
  const std::optional<std::string> path = ftp_path(argument);
  if (!path || argument.empty() || !permitted(Need::read, *path)) {
    co_await reply(550, "Permission denied.");
    co_return;
  }
  Request request;
  fill_request(request, Method::get, *path);
  Entity kind;
  co_await run_request(Method::list, *path, kind);
  // A store that cannot list (405) is asked for the file directly; one that can says whether the
  // name is a plain file.
  if (kind.status != 405 && (kind.status != 200 || kind.content_type != kFileEntryContentType)) {
    co_await reply(kind.status == 200 ? 550 : reply_code_for(kind.status),
                   kind.status == 200 ? "Not a plain file." : reply_text_for(kind.status));
    co_return;
  }
  if (restart_at_ > 0) {
    request.read_offset = restart_at_;  // the middle end starts the file there
  }
  Entity entity;
  // The quick path: a fresh stored answer for this file, before routing (a resumed read always
  // takes the full path). The context, when the full path makes one, lives until the end.
  std::optional<RequestContext> ctx;
  const QuickCache* quick = context_.generation->quick_cache();
  if (quick == nullptr || !within_address_rate(*context_.generation, request, *context_.services) ||
      !quick->answer(request, entity)) {
    co_await respond(ctx.emplace(route(*context_.generation, request, *context_.services)), entity);
  }
  if (entity.status == 416) {
    co_await reply(554, "Restart position beyond the end of the file.");
    co_return;
  }
  if (entity.status != 200) {
    co_await reply(entity.status >= 300 ? reply_code_for(entity.status) : 550,
                   entity.status >= 300 ? reply_text_for(entity.status) : "Failed to open file.");
    co_return;
  }
  const auto started = std::chrono::steady_clock::now();
  co_await reply(150, entity.length
                          ? fmt::format("Opening {} mode data connection for {} ({} bytes).",
                                        ascii_ ? "ASCII" : "BINARY", *path, *entity.length)
                          : fmt::format("Opening {} mode data connection for {}.",
                                        ascii_ ? "ASCII" : "BINARY", *path));
  data_ = co_await open_data();
  if (!data_) {
    co_await reply(425, "Failed to establish connection.");
    co_return;
  }
  bool ok = true;
  bool previous_cr = false;
  std::string converted;
  std::array<char, 64 * 1024> chunk;
  // The ready body, then a streamed one part by part: each part is written before the next is
  // pulled, so a slow data connection slows the producer.
  BodyWalk walk(entity);
  Brigade part;
  StreamStatus status = StreamStatus::more;
  bool producer_failed = false;
  while (ok && !aborted_ && status == StreamStatus::more) {
    status = co_await walk.next(part);
    if (status == StreamStatus::failed) {
      ok = false;
      producer_failed = true;
      break;
    }
    for (const Bucket& b : part.buckets()) {
      if (!ok || aborted_) {
        break;
      }
      if (!ascii_) {
        WireResult result = WireResult::ok;
        if (b.kind == Bucket::Kind::file) {
          result = co_await data_->write_file(b);
        } else {
          result = co_await data_->write(b.bytes, true);
        }
        ok = result == WireResult::ok;
        transferred_ += ok ? b.size() : 0;
        continue;
      }
      std::uint64_t done = 0;
      while (ok && done < b.size() && !aborted_) {
        std::size_t n = 0;
        if (b.kind == Bucket::Kind::memory) {
          n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), b.size() - done));
          std::memcpy(chunk.data(), b.bytes.data() + done, n);
        } else {
          const ssize_t got = ::pread(
              b.file->fd(), chunk.data(),
              static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), b.size() - done)),
              static_cast<off_t>(b.offset + done));
          if (got <= 0) {
            ok = false;
            break;
          }
          n = static_cast<std::size_t>(got);
        }
        converted.clear();
        to_network_ascii(std::string_view(chunk.data(), n), previous_cr, converted);
        ok = co_await data_->write(converted, true) == WireResult::ok;
        done += n;
        transferred_ += n;
      }
    }
  }
  part.clear();
  entity.stream.reset();  // an aborted or failed transfer cancels the producer
  // A graceful close only after a whole file: a failed connection cannot take a close_notify,
  // and waiting for one would only hold the session until the data timeout.
  if (ok && !aborted_) {
    co_await data_->close_gracefully(settings_.data_timeout);
  }
  data_->close();
  const bool complete = ok && !aborted_;
  log_transfer(*path, transferred_, true, complete, started, request);
  if (complete) {
    co_await reply(226, "Transfer complete.");
  } else if (producer_failed) {
    co_await reply(451, "Requested action aborted: the file could not be read to its end.");
  } else {
    co_await reply(426, "Connection closed; transfer aborted.");
  }
}

Task<void> Session::store(const std::string& argument, bool append, bool unique) {
  std::optional<std::string> path;
  if (unique) {
    thread_local std::mt19937_64 random{std::random_device{}()};
    path = ftp_path(fmt::format("collage.{:012x}", random() & 0xffffffffffffULL));
  } else {
    path = ftp_path(argument);
  }
  if (!path || (!unique && argument.empty()) || !permitted(Need::write, *path)) {
    co_await reply(553, "Could not create file.");
    co_return;
  }
  Request request;
  fill_request(request, Method::put, *path);
  Entity probe;
  if (append || restart_at_ > 0 || anonymous_) {
    co_await run_request(Method::head, *path, probe);
    if (anonymous_ && probe.status == 200) {
      co_await reply(553, "Could not create file: anonymous users may not overwrite.");
      co_return;
    }
    if (append) {
      request.write_offset = probe.status == 200 ? probe.length.value_or(0) : 0;
    } else if (restart_at_ > 0) {
      request.write_offset = restart_at_;
    }
  }
  const auto started = std::chrono::steady_clock::now();
  co_await reply(150, unique ? "FILE: " + path->substr(path->rfind('/') + 1)
                             : std::string("Ok to send data."));
  data_ = co_await open_data();
  if (!data_) {
    co_await reply(425, "Failed to establish connection.");
    co_return;
  }
  DataBody body(*this);
  request.body = &body;
  Entity entity;
  RequestContext ctx = route(*context_.generation, request, *context_.services);
  data_clean_end_ = false;
  co_await respond(ctx, entity);
  const bool complete = entity.status < 300 && !aborted_ && data_clean_end_;
  if (complete) {
    // Our close_notify too: clients that check (Python 3.12's ftplib) fail the upload without it.
    co_await data_->close_gracefully(settings_.data_timeout);
  }
  data_->close();
  log_transfer(*path, transferred_, false, complete, started, request);
  if (complete) {
    co_await reply(226, unique ? "Transfer complete (unique file name " + *path + ")."
                               : std::string("Transfer complete."));
  } else if (aborted_ || entity.status == 400 || !data_clean_end_) {
    co_await reply(426, "Connection closed; transfer aborted, nothing was stored.");
  } else {
    co_await reply(
        entity.status == 405 || entity.status == 403 ? 553 : reply_code_for(entity.status),
        reply_text_for(entity.status));
  }
}

Task<void> Session::send_listing(std::string_view verb, std::string argument) {
  // "LIST -la dir": options are for ls, not paths.
  std::string_view target = argument;
  while (target.starts_with('-')) {
    const std::size_t space = target.find(' ');
    target = space == std::string_view::npos ? std::string_view() : target.substr(space + 1);
  }
  const std::optional<std::string> path = ftp_path(target);
  if (!path || !permitted(Need::read, *path)) {
    co_await reply(550, "Permission denied.");
    co_return;
  }
  Entity entity;
  co_await run_request(Method::list, *path, entity);
  if (entity.status != 200) {
    co_await reply(verb == "MLSD" ? 501 : 550, "No such directory.");
    co_return;
  }
  if (verb == "MLSD" && (entity.content_type == kFileEntryContentType)) {
    co_await reply(501, "MLSD needs a directory.");
    co_return;
  }
  std::string text;
  entity.body.copy_to(text);
  std::string out;
  const std::time_t now = std::time(nullptr);
  for (const ListingEntry& e : parse_listing(text)) {
    if (verb == "LIST") {
      out += list_line(e, now);
    } else if (verb == "NLST") {
      out += e.name + "\r\n";
    } else {
      out += mlsx_line(e, perm_facts(e, *path));
    }
  }
  co_await reply(150, "Here comes the directory listing.");
  data_ = co_await open_data();
  if (!data_) {
    co_await reply(425, "Failed to establish connection.");
    co_return;
  }
  const bool ok = co_await data_->write(out, false) == WireResult::ok && !aborted_;
  transferred_ += out.size();
  if (ok) {
    co_await data_->close_gracefully(settings_.data_timeout);
  }
  data_->close();
  if (ok) {
    co_await reply(226, "Directory send OK.");
  } else {
    co_await reply(426, "Transfer aborted.");
  }
}

void Session::log_transfer(const std::string& path, std::uint64_t bytes, bool outgoing,
                           bool complete, std::chrono::steady_clock::time_point started,
                           const Request& request) {
  if (context_.score != nullptr) {
    context_.score->finish_request(bytes);
  }
  count_transfer(outgoing, complete, bytes);
  // In the request metrics a transfer is one request: 226 or 426, the bytes sent to the client.
  context_.generation->count_request(
      AccessRecord{.status = complete ? 226 : 426,
                   .bytes = outgoing ? bytes : 0,
                   .protocol = "ftp",
                   .request = &request,
                   .duration_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                      std::chrono::steady_clock::now() - started)
                                      .count()});
  COLLAGE_LOG(LogLevel::info, "COL-FTP-0008", "{}: {} {} {} ({} bytes, {})", peer_.address,
              printable(user_), outgoing ? "downloaded" : "uploaded", printable(path), bytes,
              complete ? "complete" : "aborted");
  if (!settings_.transfer_log) {
    return;
  }
  // xferlog(5): time, seconds, host, bytes, file, type, action, direction, access, user,
  // service, authentication, user id, completion.
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&now, &tm);
  char when[32];
  std::strftime(when, sizeof when, "%a %b %e %H:%M:%S %Y", &tm);
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started)
          .count();
  std::string file = path;
  for (char& c : file) {
    if (c == ' ') {
      c = '_';
    }
  }
  settings_.transfer_log->append(fmt::format("{} {} {} {} {} {} _ {} {} {} ftp 0 * {}\n", when,
                                             std::max<long long>(seconds, 1), peer_.address, bytes,
                                             file, ascii_ ? 'a' : 'b', outgoing ? 'o' : 'i',
                                             anonymous_ ? 'a' : 'r', user_, complete ? 'c' : 'i'));
  settings_.transfer_log->flush();
}

}  // namespace collage::ftp
