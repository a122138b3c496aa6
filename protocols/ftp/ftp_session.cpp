#include "ftp_session.h"

#include "ftp_metrics.h"

#include <sys/socket.h>
#include <array>
#include <asio/experimental/awaitable_operators.hpp>

#include <cerrno>
#include <charconv>

#include "collage/generation.h"
#include "collage/log.h"
#include "collage/middle_end.h"
#include "collage/scoreboard.h"
#include "collage/tls.h"

namespace collage::ftp {
namespace {

using Clock = Watchdog::Clock;
constexpr std::size_t kMaxCommandLine = 4096;

}  // namespace

Session::Session(std::unique_ptr<Transport> control, ConnectionContext context,
                 const Settings& settings)
    : control_(std::move(control)),
      executor_(control_->socket().get_executor()),
      context_(std::move(context)),
      settings_(settings),
      watchdog_(executor_,
                [this] {
                  COLLAGE_LOG(LogLevel::info, "COL-FTP-0004", "{}:{}: {} timeout, closing",
                              peer_.address, peer_.port, transferring_ ? "data" : "idle");
                  control_->try_send_now("421 Timeout.\r\n");
                  abort_transfer();
                  control_->close();
                  return true;
                }),
      transfer_done_(executor_) {
  tracker_handle_ = context_.services->connections().add(this);
  asio::error_code ec;
  auto& socket = control_->socket();
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
  // RFC 959's ABOR comes after Telnet IP and an urgent Synch: keep urgent bytes in the stream, or
  // the line (and under TLS, the record) they belong to is torn apart.
  socket.set_option(asio::socket_base::out_of_band_inline(true), ec);
  peer_ = context_.peer != nullptr ? *context_.peer : control_->peer_info();
  if (context_.score != nullptr) {
    context_.score->set_client(peer_.address);
  }
  control_->set_before_write_wait(
      [this] { watchdog_.set_deadline(Clock::now() + settings_.data_timeout); });
}

Session::~Session() {
  context_.services->connections().remove(tracker_handle_);
  if (counted_) {
    release_connection(context_.services->child_score(), caps());
  }
}

void Session::drain() {
  // Between commands the session ends at once; a transfer in progress finishes first.
  closing_ = true;
  if (!transferring_) {
    control_->close();
  }
}

Task<void> Session::run() {
  using namespace asio::experimental::awaitable_operators;
  // Counted across every child of the server, as vsftpd's max_clients and max_per_ip are.
  address_key_ = "ftp " + peer_.address;
  count_session();
  const CapResult cap = acquire_connection(context_.services->child_score(), caps());
  counted_ = cap == CapResult::admitted;
  const bool refused = cap == CapResult::refused;
  if (refused) {
    COLLAGE_LOG(LogLevel::warn, "COL-FTP-0001", "{}: too many connections, refused", peer_.address);
    if (ChildScore* row = context_.services->child_score(); row != nullptr) {
      row->refused.fetch_add(1, std::memory_order_relaxed);
    }
    co_await reply(421, "Too many connections, try again later.");
    control_->close();
    co_return;
  }
  watchdog_.set_deadline(Clock::now() + settings_.idle_timeout);
  auto session = [this]() -> Task<void> {
    if (!co_await reply(220, settings_.banner)) {
      co_return;
    }
    std::string line;
    while (!closing_ || transferring_) {
      if (!co_await read_command(line)) {
        break;
      }
      watchdog_.set_deadline(Clock::now() + settings_.idle_timeout);
      if (line.find('\0') != std::string::npos) {
        // A NUL would cut a path short in the file system; refuse rather than guess.
        if (!co_await reply(501, "NUL in command line refused.")) {
          break;
        }
        continue;
      }
      std::string_view view = line;
      const std::size_t space = view.find(' ');
      std::string verb(view.substr(0, space));
      for (char& c : verb) {
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      }
      const std::string_view argument =
          space == std::string_view::npos ? std::string_view() : view.substr(space + 1);
      if (!co_await execute(verb, argument)) {
        break;
      }
    }
  };
  co_await (session() || watchdog_.run());
  abort_transfer();
  co_await wait_for_transfer();
  control_->close();
}

Task<bool> Session::read_command(std::string& line) {
  std::array<char, 2048> buffer;
  if (context_.score != nullptr && !transferring_) {
    context_.score->set_state(WorkerState::keepalive);
  }
  for (;;) {
    const std::size_t lf = input_.find('\n');
    if (lf != std::string::npos) {
      line.clear();
      for (std::size_t i = 0; i < lf; ++i) {
        const unsigned char c = static_cast<unsigned char>(input_[i]);
        if (c == 0xff && i + 1 < lf) {
          ++i;  // Telnet IAC sequences (IP, DM before an urgent ABOR) are dropped
          continue;
        }
        if (c == 0xf2 && line.empty()) {
          continue;  // a Synch's DM whose IAC came apart from it
        }
        if (c != '\r') {
          line += static_cast<char>(c);
        }
      }
      input_.erase(0, lf + 1);
      co_return true;
    }
    if (input_.size() > kMaxCommandLine) {
      co_await reply(500, "Command line too long.");
      co_return false;
    }
    if (!transferring_) {
      // Set here, after the reply went out: a write that had to wait moved the deadline on.
      watchdog_.set_deadline(Clock::now() + settings_.idle_timeout);
    }
    auto [ec, n] = co_await control_->read_some(asio::buffer(buffer));
    if (ec || n == 0) {
      co_return false;
    }
    input_.append(buffer.data(), n);
  }
}

void Session::say(int code, std::string_view text) {
  replies_ += format_reply(code, text);
}

Task<bool> Session::reply(int code, std::string_view text) {
  say(code, text);
  co_return co_await flush();
}

Task<bool> Session::flush() {
  // One writer at a time: a transfer's final reply may race a STAT reply on the same stream;
  // whoever writes takes everything queued meanwhile.
  if (!replying_) {
    replying_ = true;
    while (!replies_.empty()) {
      std::string out;
      out.swap(replies_);
      if (co_await control_->write(out, false) != WireResult::ok) {
        control_failed_ = true;
        replies_.clear();
      }
    }
    replying_ = false;
  }
  co_return !control_failed_;
}

bool Session::control_alive() {
  // A client that dies closes its data and control connections at once; look for the control
  // connection's FIN or reset without waiting and without taking any bytes.
  char probe;
  const ssize_t n = ::recv(control_->socket().native_handle(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
  return n > 0 || (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR));
}

Task<bool> Session::control_stays_up() {
  using namespace asio::experimental::awaitable_operators;
  if (!control_alive()) {
    co_return false;
  }
  if (settings_.upload_settle_time.count() > 0) {
    // A dying client's FINs leave one by one as its process exits, and a loaded machine can
    // pause it between two: watch a moment, returning early if the control connection stirs.
    asio::steady_timer settle(executor_);
    settle.expires_after(settings_.upload_settle_time);
    co_await (control_->socket().async_wait(asio::socket_base::wait_read, kAsTuple) ||
              settle.async_wait(kAsTuple));
  }
  co_return !aborted_ && control_alive();
}

std::optional<std::string> Session::ftp_path(std::string_view argument) const {
  return resolve_path(cwd_, argument);
}

bool Session::permitted(Need need, std::string_view path) const {
  if (anonymous_ && (need == Need::write || need == Need::mkdir)) {
    const std::string& upload = settings_.anonymous_upload;
    return !upload.empty() && path.starts_with(upload) &&
           (path.size() == upload.size() || path[upload.size()] == '/' || upload == "/");
  }
  switch (need) {
    case Need::read: return rights_.read;
    case Need::write: return rights_.write;
    case Need::remove: return rights_.remove;
    case Need::mkdir: return rights_.mkdir;
  }
  return false;
}

void Session::fill_request(Request& request, Method method, const std::string& path) const {
  request.protocol = "ftp";
  request.method = method;
  request.method_token = method_name(method);
  request.path = join_root(root_, path);
  request.host = context_.listener->config.host;
  request.peer = &peer_;
  request.secure = tls_;
  request.user = user_;
  request.received = std::chrono::system_clock::now();
}

Task<void> Session::run_request(Method method, const std::string& path, Entity& out) {
  Request request;
  fill_request(request, method, path);
  RequestContext ctx = route(*context_.generation, request, *context_.services);
  co_await respond(ctx, out);
}

int Session::reply_code_for(int status) {
  switch (status) {
    case 413: return 552;
    case 429: return 450;  // RequestRatePerAddress: transient, try again
    case 507: return 452;
    case 400:
    case 403:
    case 404:
    case 405:
    case 409:
    case 412: return 550;
    default: return status >= 500 ? 451 : 550;
  }
}

std::string Session::reply_text_for(int status) {
  switch (status) {
    case 404: return "No such file or directory.";
    case 403:
    case 405: return "Permission denied.";
    case 409: return "Conflict: it exists, is not empty, or its directory is missing.";
    case 413: return "Exceeded storage allocation.";
    case 429: return "Too many requests from your address; try again in a second.";
    case 507: return "Insufficient storage space.";
    default: return "Requested action not taken.";
  }
}

std::string Session::perm_facts(const ListingEntry& entry, const std::string& directory) const {
  std::string perm;
  const std::string path = directory == "/" ? "/" + entry.name : directory + "/" + entry.name;
  if (entry.directory) {
    perm += "el";
    if (permitted(Need::write, path)) {
      perm += 'c';
    }
    if (permitted(Need::mkdir, path)) {
      perm += 'm';
    }
  } else if (permitted(Need::read, path)) {
    perm += 'r';
  }
  if (permitted(Need::remove, path)) {
    perm += 'd';
  }
  if (!anonymous_ && permitted(Need::write, path)) {
    perm += entry.directory ? "f" : "wf";
  }
  return perm;
}

Task<bool> Session::login(std::string_view password) {
  const std::string name = std::exchange(pending_user_, std::string());
  if (name == "anonymous" || name == "ftp") {
    if (settings_.anonymous) {
      logged_in_ = true;
      anonymous_ = true;
      user_ = "anonymous";
      root_ = settings_.anonymous_root;
      rights_ = Rights{true, false, false, false};
      COLLAGE_LOG(LogLevel::info, "COL-FTP-0002", "{}: anonymous login", peer_.address);
      co_return co_await reply(230, "Login successful.");
    }
  } else if (const Account* account = settings_.accounts ? settings_.accounts->find(name) : nullptr;
             account != nullptr && Accounts::password_matches(*account, password)) {
    logged_in_ = true;
    user_ = account->name;
    root_ = account->root;
    rights_ = account->rights;
    COLLAGE_LOG(LogLevel::info, "COL-FTP-0002", "{}: user {} logged in", peer_.address,
                printable(name));
    co_return co_await reply(230, "Login successful.");
  }
  ++failed_logins_;
  COLLAGE_LOG(LogLevel::warn, "COL-FTP-0003", "{}: failed login for '{}' ({} of {})", peer_.address,
              printable(name), failed_logins_, settings_.max_login_attempts);
  // A delay per failure makes guessing slow; too many failures end the connection.
  asio::steady_timer delay(executor_);
  delay.expires_after(settings_.login_delay);
  co_await delay.async_wait(kAsTuple);
  if (failed_logins_ >= settings_.max_login_attempts) {
    co_await reply(421, "Too many failed logins, closing.");
    co_return false;
  }
  co_return co_await reply(530, "Login incorrect.");
}

Task<bool> Session::auth_tls(std::string_view argument) {
  const TlsProvider* tls = context_.generation->tls();
  std::string mechanism(argument);
  for (char& c : mechanism) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (mechanism != "TLS" && mechanism != "TLS-C" && mechanism != "SSL") {
    co_return co_await reply(504, "AUTH supports TLS only.");
  }
  if (tls == nullptr) {
    co_return co_await reply(534, "TLS is not configured on this server.");
  }
  if (tls_) {
    co_return co_await reply(503, "Already using TLS.");
  }
  if (!co_await reply(234, "Proceed with negotiation.")) {
    co_return false;
  }
  input_.clear();
  control_ = co_await tls->accept(std::move(control_), nullptr, settings_.data_timeout);
  if (!control_) {
    co_return false;
  }
  control_->set_before_write_wait(
      [this] { watchdog_.set_deadline(Clock::now() + settings_.data_timeout); });
  tls_ = true;
  co_return true;
}

}  // namespace collage::ftp
