#pragma once
// One FTP control connection (RFC 959 with RFC 1123, 2228/4217, 2389, 2428, 2640 and 3659):
// commands become neutral requests against the same router and stores as HTTP.

#include <array>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "collage/asio.h"
#include "collage/entity.h"
#include "collage/listing.h"
#include "collage/protocol.h"
#include "collage/request.h"
#include "collage/scoreboard.h"
#include "collage/services.h"
#include "collage/transport.h"
#include "collage/watchdog.h"
#include "ftp_format.h"
#include "ftp_settings.h"

namespace collage::ftp {

class Session final : public TrackedConnection {
 public:
  Session(std::unique_ptr<Transport> control, ConnectionContext context, const Settings& settings);
  ~Session() override;
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  Task<void> run();
  void drain() override;

 private:
  friend class DataBody;
  enum class Need : std::uint8_t { read, write, remove, mkdir };

  // Control channel.
  Task<bool> read_command(std::string& line);
  // Queues a reply; flush() writes what is queued (false when the control connection failed),
  // reply() does both.
  void say(int code, std::string_view text);
  Task<bool> flush();
  Task<bool> reply(int code, std::string_view text);
  // True while the control connection shows no close or reset: an upload is kept only then.
  bool control_alive();
  // control_alive() after FtpUploadSettleTime: a client that died may close its data connection
  // a moment before its control connection.
  Task<bool> control_stays_up();
  Task<bool> execute(std::string_view verb, std::string_view argument);
  Task<bool> login(std::string_view password);
  Task<bool> auth_tls(std::string_view argument);

  // The command set (ftp_commands.cpp): each verb, its handler, and whether it may come before
  // login; sorted by verb. The verb is passed for handlers that serve a family (CWD/CDUP,
  // DELE/RMD/MKD, PORT/EPRT, SIZE/MDTM, the transfers).
  using Handler = Task<bool> (Session::*)(std::string_view verb, std::string_view argument);
  struct Command {
    std::string_view verb;
    Handler handler;
    bool before_login = false;
  };
  static std::span<const Command> commands();
  static const Command* find_command(std::string_view verb);
  Task<bool> cmd_abor(std::string_view verb, std::string_view argument);
  Task<bool> cmd_acct(std::string_view verb, std::string_view argument);
  Task<bool> cmd_allo(std::string_view verb, std::string_view argument);
  Task<bool> cmd_auth(std::string_view verb, std::string_view argument);
  Task<bool> cmd_cwd(std::string_view verb, std::string_view argument);
  Task<bool> cmd_epsv(std::string_view verb, std::string_view argument);
  Task<bool> cmd_feat(std::string_view verb, std::string_view argument);
  Task<bool> cmd_help(std::string_view verb, std::string_view argument);
  Task<bool> cmd_mlst(std::string_view verb, std::string_view argument);
  Task<bool> cmd_mode(std::string_view verb, std::string_view argument);
  Task<bool> cmd_noop(std::string_view verb, std::string_view argument);
  Task<bool> cmd_not_implemented(std::string_view verb, std::string_view argument);
  Task<bool> cmd_opts(std::string_view verb, std::string_view argument);
  Task<bool> cmd_pass(std::string_view verb, std::string_view argument);
  Task<bool> cmd_pasv(std::string_view verb, std::string_view argument);
  Task<bool> cmd_pbsz(std::string_view verb, std::string_view argument);
  Task<bool> cmd_port(std::string_view verb, std::string_view argument);
  Task<bool> cmd_prot(std::string_view verb, std::string_view argument);
  Task<bool> cmd_pwd(std::string_view verb, std::string_view argument);
  Task<bool> cmd_quit(std::string_view verb, std::string_view argument);
  Task<bool> cmd_remove_or_make(std::string_view verb, std::string_view argument);
  Task<bool> cmd_rest(std::string_view verb, std::string_view argument);
  Task<bool> cmd_rnfr(std::string_view verb, std::string_view argument);
  Task<bool> cmd_rnto(std::string_view verb, std::string_view argument);
  Task<bool> cmd_size_or_mdtm(std::string_view verb, std::string_view argument);
  Task<bool> cmd_stat(std::string_view verb, std::string_view argument);
  Task<bool> cmd_stru(std::string_view verb, std::string_view argument);
  Task<bool> cmd_syst(std::string_view verb, std::string_view argument);
  Task<bool> cmd_transfer(std::string_view verb, std::string_view argument);
  Task<bool> cmd_type(std::string_view verb, std::string_view argument);
  Task<bool> cmd_user(std::string_view verb, std::string_view argument);

  // Paths and requests.
  std::optional<std::string> ftp_path(std::string_view argument) const;
  bool permitted(Need need, std::string_view path) const;
  // A request from this session for an FTP path (below the user's root).
  void fill_request(Request& request, Method method, const std::string& ftp_path) const;
  Task<void> run_request(Method method, const std::string& ftp_path, Entity& out);
  static int reply_code_for(int status);
  static std::string reply_text_for(int status);
  std::string perm_facts(const ListingEntry& entry, const std::string& directory) const;

  // Data channel and transfers (ftp_transfer.cpp).
  Task<bool> passive(bool extended);
  Task<bool> active(std::string_view argument, bool extended);
  Task<std::unique_ptr<Transport>> open_data();
  void close_data_setup();
  Task<void> transfer(std::string verb, std::string argument);
  Task<void> retrieve(const std::string& path);
  Task<void> store(const std::string& path, bool append, bool unique);
  Task<void> send_listing(std::string_view verb, std::string argument);
  Task<void> wait_for_transfer();
  void abort_transfer();
  void log_transfer(const std::string& path, std::uint64_t bytes, bool outgoing, bool complete,
                    std::chrono::steady_clock::time_point started, const Request& request);

  std::unique_ptr<Transport> control_;
  asio::any_io_executor executor_;
  ConnectionContext context_;
  const Settings& settings_;
  Watchdog watchdog_;
  ConnectionTracker::Handle tracker_handle_;
  PeerInfo peer_;
  bool counted_ = false;  // holds a place under the caps below
  std::string address_key_;
  std::array<ConnectionCap, 2> caps() const {
    return {
        ConnectionCap{"ftp", static_cast<std::uint32_t>(settings_.max_clients)},
        ConnectionCap{address_key_, static_cast<std::uint32_t>(settings_.max_clients_per_address)}};
  }

  std::string input_;  // control bytes read but not yet a full line
  std::string replies_;
  bool replying_ = false;
  bool control_failed_ = false;

  // Login state.
  std::string pending_user_;
  bool logged_in_ = false;
  bool anonymous_ = false;
  std::string user_;
  std::string root_ = "/";
  Rights rights_;
  int failed_logins_ = 0;

  // Session state.
  std::string cwd_ = "/";
  bool ascii_ = false;
  std::uint64_t restart_at_ = 0;
  std::optional<std::string> rename_from_;
  bool tls_ = false;
  bool pbsz_ = false;
  bool protect_data_ = false;
  bool epsv_all_ = false;
  bool closing_ = false;

  // Data channel.
  std::unique_ptr<asio::ip::tcp::acceptor> passive_;
  std::optional<asio::ip::tcp::endpoint> active_;
  std::unique_ptr<Transport> data_;
  bool transferring_ = false;
  bool aborted_ = false;
  std::uint64_t transferred_ = 0;
  asio::steady_timer transfer_done_;
  bool data_clean_end_ = false;  // the upload's data connection ended with a proper close
};

}  // namespace collage::ftp
