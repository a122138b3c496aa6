#include "ftp_session.h"

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

// format_reply() starts every inner line with one space, as RFC 2389 §3.2 wants of feature lines.
constexpr std::string_view kFeatures =
    "Features:\nAUTH TLS\nEPRT\nEPSV\nMDTM\nMLST type*;size*;modify*;perm*;\nPBSZ\nPROT\n"
    "REST STREAM\nSIZE\nTVFS\nUTF8\nEnd";

constexpr std::string_view kHelp =
    "The following commands are recognized.\n"
    "ABOR APPE AUTH CDUP CWD  DELE EPRT EPSV FEAT HELP LIST MDTM MKD  MLSD MLST MODE\n"
    "NLST NOOP OPTS PASS PASV PBSZ PORT PROT PWD  QUIT REST RETR RMD  RNFR RNTO SIZE\n"
    "STAT STOR STOU STRU SYST TYPE USER XCUP XCWD XMKD XPWD XRMD\n"
    "Help OK.";

std::string quote_path(std::string_view path) {
  std::string out = "\"";
  for (char c : path) {
    out += c;
    if (c == '"') {
      out += '"';  // RFC 959: a quote inside a pathname is doubled
    }
  }
  return out + "\"";
}

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
  counted_ = acquire_connection(context_.services->child_score(), caps());
  const bool refused = !counted_;
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
  // Both FINs of a dying client leave within microseconds; every upload pays this wait, so short.
  constexpr auto kGrace = std::chrono::milliseconds(5);
  if (!control_alive()) {
    co_return false;
  }
  asio::steady_timer grace(executor_);
  grace.expires_after(kGrace);
  // Returns early if anything arrives on the control connection meanwhile.
  co_await (control_->socket().async_wait(asio::socket_base::wait_read, kAsTuple) ||
            grace.async_wait(kAsTuple));
  co_return !aborted_ && control_alive();
}

bool Session::allowed_before_login(std::string_view verb) const {
  for (std::string_view v :
       {"USER", "PASS", "AUTH", "PBSZ", "PROT", "FEAT", "SYST", "QUIT", "HELP", "NOOP", "OPTS"}) {
    if (verb == v) {
      return true;
    }
  }
  return false;
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

Task<bool> Session::execute(std::string_view verb, std::string_view argument) {
  // During a transfer only a few commands are answered at once; the rest wait for it to end.
  if (transferring_) {
    if (verb == "ABOR") {
      abort_transfer();
      co_await wait_for_transfer();
      co_return co_await reply(226, "ABOR successful.");
    }
    if (verb == "STAT") {
      co_return co_await reply(213,
                               fmt::format("Status: {} bytes transferred so far.", transferred_));
    }
    if (verb == "NOOP") {
      co_return co_await reply(200, "NOOP ok.");
    }
    if (verb == "QUIT") {
      abort_transfer();
      co_await wait_for_transfer();
      co_await reply(221, "Goodbye.");
      co_return false;
    }
    co_await wait_for_transfer();
  }

  if (verb == "QUIT") {
    co_await reply(221, "Goodbye.");
    co_return false;
  }
  if (verb == "NOOP") {
    co_return co_await reply(200, "NOOP ok.");
  }
  if (verb == "SYST") {
    co_return co_await reply(215, "UNIX Type: L8");
  }
  if (verb == "FEAT") {
    co_return co_await reply(211, kFeatures);
  }
  if (verb == "HELP") {
    co_return co_await reply(214, kHelp);
  }
  if (verb == "OPTS") {
    std::string option(argument);
    for (char& c : option) {
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (option == "UTF8 ON" || option == "UTF-8 ON") {
      co_return co_await reply(200, "Always in UTF8 mode.");
    }
    if (option.starts_with("MLST")) {
      co_return co_await reply(200, "MLST OPTS type;size;modify;perm;");
    }
    co_return co_await reply(501, "Option not understood.");
  }
  if (verb == "AUTH")
    co_return co_await auth_tls(argument);
  if (verb == "PBSZ") {
    if (!tls_) {
      co_return co_await reply(503, "PBSZ needs AUTH first.");
    }
    pbsz_ = true;
    co_return co_await reply(200, "PBSZ=0");
  }
  if (verb == "PROT") {
    if (!tls_ || !pbsz_) {
      co_return co_await reply(503, "PROT needs AUTH and PBSZ first.");
    }
    if (argument == "P" || argument == "p") {
      protect_data_ = true;
      co_return co_await reply(200, "PROT now Private.");
    }
    if (argument == "C" || argument == "c") {
      protect_data_ = false;
      co_return co_await reply(200, "PROT now Clear.");
    }
    co_return co_await reply(536, "PROT supports C and P only.");
  }
  if (verb == "USER") {
    if (logged_in_) {
      co_return co_await reply(530, "Already logged in; reconnect to change user.");
    }
    if (argument.empty()) {
      co_return co_await reply(501, "USER needs a name.");
    }
    if (settings_.require_tls && !tls_) {
      co_return co_await reply(530, "This server requires AUTH TLS before login.");
    }
    pending_user_ = argument;
    co_return co_await reply(331, "Please specify the password.");
  }
  if (verb == "PASS") {
    if (logged_in_) {
      co_return co_await reply(230, "Already logged in.");
    }
    if (pending_user_.empty()) {
      co_return co_await reply(503, "Login with USER first.");
    }
    co_return co_await login(argument);
  }
  if (!logged_in_) {
    if (allowed_before_login(verb)) {
      co_return co_await reply(503, "Bad sequence of commands.");
    }
    co_return co_await reply(530, "Please login with USER and PASS.");
  }

  if (verb == "PWD" || verb == "XPWD") {
    co_return co_await reply(257, quote_path(cwd_) + " is the current directory");
  }
  if (verb == "CWD" || verb == "XCWD" || verb == "CDUP" || verb == "XCUP") {
    const std::optional<std::string> path =
        ftp_path(verb == "CDUP" || verb == "XCUP" ? std::string_view("..") : argument);
    if (!path) {
      co_return co_await reply(550, "Failed to change directory.");
    }
    Entity entity;
    co_await run_request(Method::list, *path, entity);
    if (entity.status != 200 || entity.headers.contains("Collage-Listing-Target")) {
      co_return co_await reply(550, "Failed to change directory.");
    }
    cwd_ = *path;
    co_return co_await reply(250, "Directory successfully changed.");
  }
  if (verb == "TYPE") {
    std::string type(argument);
    for (char& c : type) {
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (type == "A" || type == "A N") {
      ascii_ = true;
      co_return co_await reply(200, "Switching to ASCII mode.");
    }
    if (type == "I" || type == "L 8") {
      ascii_ = false;
      co_return co_await reply(200, "Switching to Binary mode.");
    }
    co_return co_await reply(504, "Unsupported TYPE.");
  }
  if (verb == "MODE") {
    if (argument == "S" || argument == "s") {
      co_return co_await reply(200, "Mode set to S.");
    }
    co_return co_await reply(504, "Only stream mode.");
  }
  if (verb == "STRU") {
    if (argument == "F" || argument == "f") {
      co_return co_await reply(200, "Structure set to F.");
    }
    co_return co_await reply(504, "Only file structure.");
  }
  if (verb == "ALLO") {
    co_return co_await reply(202, "ALLO not needed.");
  }
  if (verb == "REST") {
    std::uint64_t offset = 0;
    const auto [ptr, ec] =
        std::from_chars(argument.data(), argument.data() + argument.size(), offset);
    if (ec != std::errc{} || ptr != argument.data() + argument.size() || argument.empty()) {
      co_return co_await reply(501, "REST needs a byte offset.");
    }
    restart_at_ = offset;
    co_return co_await reply(350, fmt::format("Restart position accepted ({}).", offset));
  }
  if (verb == "PASV") {
    if (epsv_all_) {
      co_return co_await reply(503, "EPSV ALL in effect.");
    }
    co_return co_await passive(false);
  }
  if (verb == "EPSV") {
    if (argument == "ALL" || argument == "all") {
      epsv_all_ = true;
      co_return co_await reply(200, "EPSV ALL ok.");
    }
    co_return co_await passive(true);
  }
  if (verb == "PORT" || verb == "EPRT") {
    if (epsv_all_) {
      co_return co_await reply(503, "EPSV ALL in effect.");
    }
    co_return co_await active(argument, verb == "EPRT");
  }
  if (verb == "SIZE" || verb == "MDTM") {
    const std::optional<std::string> path = ftp_path(argument);
    if (!path || !permitted(Need::read, *path)) {
      co_return co_await reply(550, "Permission denied.");
    }
    Entity entity;
    co_await run_request(Method::head, *path, entity);
    if (entity.status != 200 || !entity.length) {
      co_return co_await reply(550, "Could not get file size or time.");
    }
    if (verb == "SIZE") {
      co_return co_await reply(213, std::to_string(*entity.length));
    }
    co_return co_await reply(213, ftp_time(entity.last_modified.value_or(0)));
  }
  if (verb == "MLST") {
    const std::optional<std::string> path = ftp_path(argument);
    if (!path || !permitted(Need::read, *path)) {
      co_return co_await reply(550, "Permission denied.");
    }
    Entity entity;
    co_await run_request(Method::list, *path, entity);
    if (entity.status != 200) {
      co_return co_await reply(550, "No such file or directory.");
    }
    ListingEntry self;
    if (entity.headers.contains("Collage-Listing-Target")) {
      std::string text;
      for (const Bucket& b : entity.body.buckets()) {
        text += b.bytes;
      }
      auto entries = parse_listing(text);
      if (!entries.empty()) {
        self = entries.front();
      }
    } else {
      self.directory = true;
      const std::size_t cut = path->rfind('/');
      const std::string parent_path = cut == 0 ? "/" : path->substr(0, cut);
      Entity parent_listing;
      if (*path != "/") {
        co_await run_request(Method::list, parent_path, parent_listing);
      }
      std::string text;
      for (const Bucket& b : parent_listing.body.buckets()) {
        text += b.bytes;
      }
      for (const ListingEntry& e : parse_listing(text)) {
        if (e.name == path->substr(cut + 1)) {
          self = e;
        }
      }
    }
    self.name = *path;
    const std::size_t slash = path->rfind('/');
    const std::string parent = slash == 0 ? "/" : path->substr(0, slash);
    std::string facts = mlsx_line(self, perm_facts(self, parent));
    facts.resize(facts.size() - 2);  // format_reply ends the line
    co_return co_await reply(250, "Listing " + *path + "\n" + facts + "\nEnd");
  }
  if (verb == "DELE" || verb == "RMD" || verb == "XRMD" || verb == "MKD" || verb == "XMKD") {
    const bool make = verb == "MKD" || verb == "XMKD";
    const std::optional<std::string> path = ftp_path(argument);
    if (!path || *path == "/" || argument.empty() ||
        !permitted(make ? Need::mkdir : Need::remove, *path)) {
      co_return co_await reply(550, "Permission denied.");
    }
    Entity entity;
    const std::string target = verb == "DELE" || make ? *path : *path + "/";
    co_await run_request(make ? Method::mkdir : Method::del, target, entity);
    if (entity.status >= 300) {
      co_return co_await reply(reply_code_for(entity.status), reply_text_for(entity.status));
    }
    if (make) {
      co_return co_await reply(257, quote_path(*path) + " created");
    }
    co_return co_await reply(250, verb == "DELE" ? "Delete operation successful."
                                                 : "Remove directory operation successful.");
  }
  if (verb == "RNFR") {
    const std::optional<std::string> path = ftp_path(argument);
    if (!path || argument.empty() || !permitted(Need::write, *path) ||
        !permitted(Need::remove, *path)) {
      co_return co_await reply(550, "Permission denied.");
    }
    Entity entity;
    co_await run_request(Method::list, *path, entity);
    if (entity.status != 200) {
      co_return co_await reply(550, "RNFR command failed.");
    }
    rename_from_ = *path;
    co_return co_await reply(350, "Ready for RNTO.");
  }
  if (verb == "RNTO") {
    if (!rename_from_) {
      co_return co_await reply(503, "RNFR required first.");
    }
    const std::string from = std::exchange(rename_from_, std::nullopt).value();
    const std::optional<std::string> path = ftp_path(argument);
    if (!path || argument.empty() || !permitted(Need::write, *path)) {
      co_return co_await reply(550, "Permission denied.");
    }
    Request request;
    fill_request(request, Method::rename, from);
    request.destination = join_root(root_, *path);
    Entity entity;
    RequestContext ctx = route(*context_.generation, request, *context_.services);
    co_await respond(ctx, entity);
    if (entity.status >= 300) {
      co_return co_await reply(reply_code_for(entity.status), reply_text_for(entity.status));
    }
    co_return co_await reply(250, "Rename successful.");
  }
  if (verb == "STAT") {
    if (argument.empty()) {
      co_return co_await reply(211,
                               fmt::format("FTP server status:\nConnected to {}\nLogged in as {}\n"
                                           "TYPE: {}\nData connections: {}\nEnd of status",
                                           peer_.address, user_, ascii_ ? "ASCII" : "BINARY",
                                           protect_data_ ? "private (TLS)" : "clear"));
    }
    const std::optional<std::string> path = ftp_path(argument);
    if (!path || !permitted(Need::read, *path)) {
      co_return co_await reply(550, "Permission denied.");
    }
    Entity entity;
    co_await run_request(Method::list, *path, entity);
    if (entity.status != 200) {
      co_return co_await reply(550, "No such file or directory.");
    }
    std::string text;
    for (const Bucket& b : entity.body.buckets()) {
      text += b.bytes;
    }
    std::string lines = "Status follows:\n";
    const std::time_t now = std::time(nullptr);
    for (const ListingEntry& e : parse_listing(text)) {
      std::string line = list_line(e, now);
      line.resize(line.size() - 2);
      lines += line + "\n";
    }
    co_return co_await reply(213, lines + "End of status");
  }
  if (verb == "RETR" || verb == "STOR" || verb == "APPE" || verb == "STOU" || verb == "LIST" ||
      verb == "NLST" || verb == "MLSD") {
    if (!passive_ && !active_) {
      co_return co_await reply(425, "Use PORT, PASV, EPRT or EPSV first.");
    }
    transferring_ = true;
    aborted_ = false;
    transferred_ = 0;
    asio::co_spawn(executor_, transfer(std::string(verb), std::string(argument)), asio::detached);
    co_return true;
  }
  if (verb == "ACCT") {
    co_return co_await reply(202, "ACCT not needed.");
  }
  if (verb == "ABOR") {
    co_return co_await reply(225, "No transfer to abort.");
  }
  if (verb == "SITE" || verb == "REIN" || verb == "SMNT") {
    co_return co_await reply(502, "Command not implemented.");
  }
  co_return co_await reply(500, "Unknown command.");
}

}  // namespace collage::ftp
