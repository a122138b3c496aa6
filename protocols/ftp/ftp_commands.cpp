// The FTP command set as a table: each verb, whether it may come before login, and its handler.
// execute() looks a command up and runs it; HELP lists the table.

#include <algorithm>
#include <charconv>

#include "collage/generation.h"
#include "collage/middle_end.h"
#include "ftp_session.h"

namespace collage::ftp {
namespace {

// format_reply() starts every inner line with one space, as RFC 2389 §3.2 wants of feature lines.
constexpr std::string_view kFeatures =
    "Features:\nAUTH TLS\nEPRT\nEPSV\nMDTM\nMLST type*;size*;modify*;perm*;\nPBSZ\nPROT\n"
    "REST STREAM\nSIZE\nTVFS\nUTF8\nEnd";

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

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

std::string body_text(const Entity& entity) {
  std::string text;
  entity.body.copy_to(text);
  return text;
}

}  // namespace

std::span<const Session::Command> Session::commands() {
  // Sorted by verb, for the binary search in find_command().
  static constexpr Command kCommands[] = {
      {"ABOR", &Session::cmd_abor},
      {"ACCT", &Session::cmd_acct},
      {"ALLO", &Session::cmd_allo},
      {"APPE", &Session::cmd_transfer},
      {"AUTH", &Session::cmd_auth, true},
      {"CDUP", &Session::cmd_cwd},
      {"CWD", &Session::cmd_cwd},
      {"DELE", &Session::cmd_remove_or_make},
      {"EPRT", &Session::cmd_port},
      {"EPSV", &Session::cmd_epsv},
      {"FEAT", &Session::cmd_feat, true},
      {"HELP", &Session::cmd_help, true},
      {"LIST", &Session::cmd_transfer},
      {"MDTM", &Session::cmd_size_or_mdtm},
      {"MKD", &Session::cmd_remove_or_make},
      {"MLSD", &Session::cmd_transfer},
      {"MLST", &Session::cmd_mlst},
      {"MODE", &Session::cmd_mode},
      {"NLST", &Session::cmd_transfer},
      {"NOOP", &Session::cmd_noop, true},
      {"OPTS", &Session::cmd_opts, true},
      {"PASS", &Session::cmd_pass, true},
      {"PASV", &Session::cmd_pasv},
      {"PBSZ", &Session::cmd_pbsz, true},
      {"PORT", &Session::cmd_port},
      {"PROT", &Session::cmd_prot, true},
      {"PWD", &Session::cmd_pwd},
      {"QUIT", &Session::cmd_quit, true},
      {"REIN", &Session::cmd_not_implemented},
      {"REST", &Session::cmd_rest},
      {"RETR", &Session::cmd_transfer},
      {"RMD", &Session::cmd_remove_or_make},
      {"RNFR", &Session::cmd_rnfr},
      {"RNTO", &Session::cmd_rnto},
      {"SITE", &Session::cmd_not_implemented},
      {"SIZE", &Session::cmd_size_or_mdtm},
      {"SMNT", &Session::cmd_not_implemented},
      {"STAT", &Session::cmd_stat},
      {"STOR", &Session::cmd_transfer},
      {"STOU", &Session::cmd_transfer},
      {"STRU", &Session::cmd_stru},
      {"SYST", &Session::cmd_syst, true},
      {"TYPE", &Session::cmd_type},
      {"USER", &Session::cmd_user, true},
      {"XCUP", &Session::cmd_cwd},
      {"XCWD", &Session::cmd_cwd},
      {"XMKD", &Session::cmd_remove_or_make},
      {"XPWD", &Session::cmd_pwd},
      {"XRMD", &Session::cmd_remove_or_make},
  };
  static_assert(std::is_sorted(std::begin(kCommands), std::end(kCommands),
                               [](const Command& a, const Command& b) { return a.verb < b.verb; }),
                "kCommands must stay sorted by verb");
  return kCommands;
}

const Session::Command* Session::find_command(std::string_view verb) {
  const std::span<const Command> all = commands();
  const auto it = std::lower_bound(all.begin(), all.end(), verb,
                                   [](const Command& c, std::string_view v) { return c.verb < v; });
  return it != all.end() && it->verb == verb ? &*it : nullptr;
}

Task<bool> Session::execute(std::string_view verb, std::string_view argument) {
  // During a transfer only a few commands are answered at once; the rest wait for it to end.
  if (transferring_) {
    if (verb == "ABOR" || verb == "QUIT") {
      abort_transfer();
      co_await wait_for_transfer();
      if (verb == "QUIT") {
        co_await reply(221, "Goodbye.");
        co_return false;
      }
      co_return co_await reply(226, "ABOR successful.");
    }
    if (verb == "STAT") {
      co_return co_await reply(213,
                               fmt::format("Status: {} bytes transferred so far.", transferred_));
    }
    if (verb == "NOOP") {
      co_return co_await reply(200, "NOOP ok.");
    }
    co_await wait_for_transfer();
  }
  const Command* command = find_command(verb);
  if (!logged_in_ && (command == nullptr || !command->before_login)) {
    co_return co_await reply(530, "Please login with USER and PASS.");
  }
  if (command == nullptr) {
    co_return co_await reply(500, "Unknown command.");
  }
  co_return co_await (this->*command->handler)(verb, argument);
}

// --- connection and login ---------------------------------------------------------------------

Task<bool> Session::cmd_quit(std::string_view, std::string_view) {
  co_await reply(221, "Goodbye.");
  co_return false;
}

Task<bool> Session::cmd_noop(std::string_view, std::string_view) {
  co_return co_await reply(200, "NOOP ok.");
}

Task<bool> Session::cmd_syst(std::string_view, std::string_view) {
  co_return co_await reply(215, "UNIX Type: L8");
}

Task<bool> Session::cmd_feat(std::string_view, std::string_view) {
  co_return co_await reply(211, kFeatures);
}

Task<bool> Session::cmd_help(std::string_view, std::string_view) {
  std::string text = "The following commands are recognized.";
  const std::span<const Command> all = commands();
  for (std::size_t i = 0; i < all.size(); ++i) {
    text += i % 16 == 0 ? '\n' : ' ';
    text += fmt::format("{:<4}", all[i].verb);
  }
  text += "\nHelp OK.";
  co_return co_await reply(214, text);
}

Task<bool> Session::cmd_opts(std::string_view, std::string_view argument) {
  const std::string option = upper(argument);
  if (option == "UTF8 ON" || option == "UTF-8 ON") {
    co_return co_await reply(200, "Always in UTF8 mode.");
  }
  if (option.starts_with("MLST")) {
    co_return co_await reply(200, "MLST OPTS type;size;modify;perm;");
  }
  co_return co_await reply(501, "Option not understood.");
}

Task<bool> Session::cmd_auth(std::string_view, std::string_view argument) {
  co_return co_await auth_tls(argument);
}

Task<bool> Session::cmd_pbsz(std::string_view, std::string_view) {
  if (!tls_) {
    co_return co_await reply(503, "PBSZ needs AUTH first.");
  }
  pbsz_ = true;
  co_return co_await reply(200, "PBSZ=0");
}

Task<bool> Session::cmd_prot(std::string_view, std::string_view argument) {
  if (!tls_ || !pbsz_) {
    co_return co_await reply(503, "PROT needs AUTH and PBSZ first.");
  }
  const std::string level = upper(argument);
  if (level == "P" || level == "C") {
    protect_data_ = level == "P";
    co_return co_await reply(200, protect_data_ ? "PROT now Private." : "PROT now Clear.");
  }
  co_return co_await reply(536, "PROT supports C and P only.");
}

Task<bool> Session::cmd_user(std::string_view, std::string_view argument) {
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

Task<bool> Session::cmd_pass(std::string_view, std::string_view argument) {
  if (logged_in_) {
    co_return co_await reply(230, "Already logged in.");
  }
  if (pending_user_.empty()) {
    co_return co_await reply(503, "Login with USER first.");
  }
  co_return co_await login(argument);
}

Task<bool> Session::cmd_acct(std::string_view, std::string_view) {
  co_return co_await reply(202, "ACCT not needed.");
}

Task<bool> Session::cmd_not_implemented(std::string_view, std::string_view) {
  co_return co_await reply(502, "Command not implemented.");
}

Task<bool> Session::cmd_abor(std::string_view, std::string_view) {
  co_return co_await reply(225, "No transfer to abort.");  // during a transfer execute() answers it
}

// --- where and how ------------------------------------------------------------------------------

Task<bool> Session::cmd_pwd(std::string_view, std::string_view) {
  co_return co_await reply(257, quote_path(cwd_) + " is the current directory");
}

Task<bool> Session::cmd_cwd(std::string_view verb, std::string_view argument) {
  const bool up = verb == "CDUP" || verb == "XCUP";
  const std::optional<std::string> path = ftp_path(up ? std::string_view("..") : argument);
  if (!path) {
    co_return co_await reply(550, "Failed to change directory.");
  }
  Entity entity;
  co_await run_request(Method::list, *path, entity);
  if (entity.status != 200 || (entity.content_type == kFileEntryContentType)) {
    co_return co_await reply(550, "Failed to change directory.");
  }
  cwd_ = *path;
  co_return co_await reply(250, "Directory successfully changed.");
}

Task<bool> Session::cmd_type(std::string_view, std::string_view argument) {
  const std::string type = upper(argument);
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

Task<bool> Session::cmd_mode(std::string_view, std::string_view argument) {
  if (upper(argument) == "S") {
    co_return co_await reply(200, "Mode set to S.");
  }
  co_return co_await reply(504, "Only stream mode.");
}

Task<bool> Session::cmd_stru(std::string_view, std::string_view argument) {
  if (upper(argument) == "F") {
    co_return co_await reply(200, "Structure set to F.");
  }
  co_return co_await reply(504, "Only file structure.");
}

Task<bool> Session::cmd_allo(std::string_view, std::string_view) {
  co_return co_await reply(202, "ALLO not needed.");
}

Task<bool> Session::cmd_rest(std::string_view, std::string_view argument) {
  std::uint64_t offset = 0;
  const auto [ptr, ec] =
      std::from_chars(argument.data(), argument.data() + argument.size(), offset);
  if (ec != std::errc{} || ptr != argument.data() + argument.size() || argument.empty()) {
    co_return co_await reply(501, "REST needs a byte offset.");
  }
  restart_at_ = offset;
  co_return co_await reply(350, fmt::format("Restart position accepted ({}).", offset));
}

// --- data connections ---------------------------------------------------------------------------

Task<bool> Session::cmd_pasv(std::string_view, std::string_view) {
  if (epsv_all_) {
    co_return co_await reply(503, "EPSV ALL in effect.");
  }
  co_return co_await passive(false);
}

Task<bool> Session::cmd_epsv(std::string_view, std::string_view argument) {
  if (upper(argument) == "ALL") {
    epsv_all_ = true;
    co_return co_await reply(200, "EPSV ALL ok.");
  }
  co_return co_await passive(true);
}

Task<bool> Session::cmd_port(std::string_view verb, std::string_view argument) {
  if (epsv_all_) {
    co_return co_await reply(503, "EPSV ALL in effect.");
  }
  co_return co_await active(argument, verb == "EPRT");
}

Task<bool> Session::cmd_transfer(std::string_view verb, std::string_view argument) {
  if (!passive_ && !active_) {
    co_return co_await reply(425, "Use PORT, PASV, EPRT or EPSV first.");
  }
  transferring_ = true;
  aborted_ = false;
  transferred_ = 0;
  // The transfer runs beside the command loop, which keeps reading (ABOR, STAT, NOOP, QUIT).
  asio::co_spawn(executor_, transfer(std::string(verb), std::string(argument)), asio::detached);
  co_return true;
}

// --- files and directories ----------------------------------------------------------------------

Task<bool> Session::cmd_size_or_mdtm(std::string_view verb, std::string_view argument) {
  const std::optional<std::string> path = ftp_path(argument);
  if (!path || !permitted(Need::read, *path)) {
    co_return co_await reply(550, "Permission denied.");
  }
  Entity entity;
  co_await run_request(Method::head, *path, entity);
  if (entity.status != 200 || !entity.length) {
    co_return co_await reply(550, "Could not get file size or time.");
  }
  co_return co_await reply(213, verb == "SIZE" ? std::to_string(*entity.length)
                                               : ftp_time(entity.last_modified.value_or(0)));
}

Task<bool> Session::cmd_mlst(std::string_view, std::string_view argument) {
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
  const std::size_t cut = path->rfind('/');
  const std::string parent = cut == 0 ? "/" : path->substr(0, cut);
  if ((entity.content_type == kFileEntryContentType)) {
    auto entries = parse_listing(body_text(entity));
    if (!entries.empty()) {
      self = entries.front();
    }
  } else {
    // A directory: its own facts come from its parent's listing.
    self.directory = true;
    Entity parent_listing;
    if (*path != "/") {
      co_await run_request(Method::list, parent, parent_listing);
    }
    for (const ListingEntry& e : parse_listing(body_text(parent_listing))) {
      if (e.name == path->substr(cut + 1)) {
        self = e;
      }
    }
  }
  self.name = *path;
  std::string facts = mlsx_line(self, perm_facts(self, parent));
  facts.resize(facts.size() - 2);  // format_reply ends the line
  co_return co_await reply(250, "Listing " + *path + "\n" + facts + "\nEnd");
}

Task<bool> Session::cmd_remove_or_make(std::string_view verb, std::string_view argument) {
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

Task<bool> Session::cmd_rnfr(std::string_view, std::string_view argument) {
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

Task<bool> Session::cmd_rnto(std::string_view, std::string_view argument) {
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

Task<bool> Session::cmd_stat(std::string_view, std::string_view argument) {
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
  std::string lines = "Status follows:\n";
  const std::time_t now = std::time(nullptr);
  for (const ListingEntry& e : parse_listing(body_text(entity))) {
    std::string line = list_line(e, now);
    line.resize(line.size() - 2);
    lines += line + "\n";
  }
  co_return co_await reply(213, lines + "End of status");
}

}  // namespace collage::ftp
