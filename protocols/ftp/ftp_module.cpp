// The FTP front end module: its directives and its registration.

#include <charconv>

#include "collage/registry.h"
#include "ftp_session.h"
#include "ftp_settings.h"

namespace collage::ftp {
namespace {

// Directives whose text is checked or turned into something else before it is a setting.
struct Written {
  std::optional<std::string> anonymous_upload;
  std::optional<std::string> user_file;
  std::string passive_ports;
  std::optional<std::string> passive_address;
  std::string transfer_log;
};

const Directive kDirectives[] = {
    {.name = "FtpBanner",
     .type = ArgType::string,
     .default_value = "Collage FTP server ready",
     .help = "Text of the 220 greeting.",
     .field = bind<&Settings::banner>()},
    {.name = "FtpAnonymous",
     .type = ArgType::flag,
     .default_value = "on",
     .help = "Allow anonymous (and ftp) logins, read-only unless FtpAnonymousUpload.",
     .field = bind<&Settings::anonymous>()},
    {.name = "FtpAnonymousRoot",
     .type = ArgType::string,
     .default_value = "/",
     .help = "URL path anonymous users are confined to.",
     .field = bind<&Settings::anonymous_root>()},
    {.name = "FtpAnonymousUpload",
     .type = ArgType::string,
     .help = "FTP path (inside the anonymous root) where anonymous users may upload new files "
             "and make directories; unset: nowhere.",
     .field = bind<&Written::anonymous_upload>()},
    {.name = "FtpUserFile",
     .type = ArgType::path,
     .help = "Accounts, one name:crypt-hash:root:rights line each (mkpasswd -m sha-512); "
             "rights from read, write, delete, mkdir.",
     .field = bind<&Written::user_file>()},
    {.name = "FtpPassivePorts",
     .type = ArgType::string,
     .default_value = "0",
     .help = "Passive data ports as MIN-MAX (for firewalls and NAT); 0: any free port.",
     .field = bind<&Written::passive_ports>()},
    {.name = "FtpPassiveAddress",
     .type = ArgType::string,
     .help = "IPv4 address announced in PASV replies (the public one behind NAT or a load "
             "balancer); unset: the address the client connected to.",
     .field = bind<&Written::passive_address>()},
    {.name = "FtpRequireTls",
     .type = ArgType::flag,
     .default_value = "off",
     .help = "Refuse USER until the client has switched to TLS with AUTH TLS.",
     .field = bind<&Settings::require_tls>()},
    {.name = "FtpIdleTimeout",
     .type = ArgType::duration,
     .default_value = "300s",
     .help = "How long a control connection may sit idle between commands.",
     .min = 1,
     .field = bind<&Settings::idle_timeout>()},
    {.name = "FtpDataTimeout",
     .type = ArgType::duration,
     .default_value = "60s",
     .help = "How long to wait for a data connection, and for a stalled transfer to move.",
     .min = 1,
     .field = bind<&Settings::data_timeout>()},
    {.name = "FtpUploadSettleTime",
     .type = ArgType::duration,
     .default_value = "50ms",
     .help = "When an upload's data connection ends, how long to watch the control connection "
             "for the close of a client that died before keeping the file (0: look once).",
     .min = 0,
     .field = bind<&Settings::upload_settle_time>()},
    {.name = "FtpLoginDelay",
     .type = ArgType::duration,
     .default_value = "1s",
     .help = "Delay before answering a failed login.",
     .field = bind<&Settings::login_delay>()},
    {.name = "FtpMaxLoginAttempts",
     .type = ArgType::integer,
     .default_value = "3",
     .help = "Failed logins before the connection is closed.",
     .min = 1,
     .max = 100,
     .field = bind<&Settings::max_login_attempts>()},
    {.name = "FtpMaxClients",
     .type = ArgType::integer,
     .default_value = "200",
     .help = "Control connections served at once; more get 421.",
     .min = 1,
     .field = bind<&Settings::max_clients>()},
    {.name = "FtpMaxClientsPerIp",
     .type = ArgType::integer,
     .default_value = "50",
     .help = "Control connections one client address may hold at once (mirroring clients open "
             "several; offices share one address).",
     .min = 1,
     .field = bind<&Settings::max_clients_per_address>()},
    {.name = "FtpTransferLog",
     .type = ArgType::string,
     .default_value = "off",
     .help = "File that gets one xferlog(5) line per transfer, or off.",
     .field = bind<&Written::transfer_log>()},
};

class FtpProtocol final : public Protocol {
 public:
  explicit FtpProtocol(Settings settings) : settings_(std::move(settings)) {}

  Task<void> serve(std::unique_ptr<Transport> transport, ConnectionContext context) const override {
    Session session(std::move(transport), std::move(context), settings_);
    co_await session.run();
  }

 private:
  Settings settings_;
};

std::unique_ptr<Protocol> make_protocol(const Scope& server, ConfigErrors& errors) {
  Settings s = server.read<Settings>(kDirectives);
  const Written written = server.read<Written>(kDirectives);
  if (written.anonymous_upload) {
    s.anonymous_upload = *written.anonymous_upload;
    if (s.anonymous_upload.empty() || s.anonymous_upload.front() != '/') {
      errors.add(server.where("FtpAnonymousUpload"), "FtpAnonymousUpload must start with '/'");
    }
    while (s.anonymous_upload.size() > 1 && s.anonymous_upload.back() == '/') {
      s.anonymous_upload.pop_back();
    }
  }
  if (written.user_file) {
    auto accounts = std::make_shared<Accounts>();
    accounts->load(*written.user_file, "FtpUserFile", server.where("FtpUserFile"), errors);
    s.accounts = std::move(accounts);
  }
  const std::string& ports = written.passive_ports;
  if (ports != "0") {
    const std::size_t dash = ports.find('-');
    unsigned low = 0;
    unsigned high = 0;
    const bool ok =
        dash != std::string::npos &&
        std::from_chars(ports.data(), ports.data() + dash, low).ec == std::errc{} &&
        std::from_chars(ports.data() + dash + 1, ports.data() + ports.size(), high).ec ==
            std::errc{} &&
        low >= 1024 && low <= high && high <= 65535;
    if (!ok) {
      errors.add(server.where("FtpPassivePorts"),
                 "FtpPassivePorts expects MIN-MAX within 1024-65535, got '" + ports + "'");
    }
    s.passive_min = static_cast<std::uint16_t>(low);
    s.passive_max = static_cast<std::uint16_t>(high);
  }
  s.passive_address = written.passive_address.value_or("");
  if (written.transfer_log != "off") {
    auto log = std::make_shared<AccessLog>();
    std::string error;
    if (!log->open(written.transfer_log, error)) {
      errors.add(server.where("FtpTransferLog"), error);
    }
    s.transfer_log = std::move(log);
  }
  return std::make_unique<FtpProtocol>(std::move(s));
}

}  // namespace

void register_module(Registry& registry) {
  registry.add_module(
      {"ftp", ModuleKind::protocol, "FTP front end (RFC 959, 2228, 2389, 2428, 2640, 3659, 4217)"},
      kDirectives);
  registry.add_protocol("ftp", {make_protocol, "ftp", {}});
}

}  // namespace collage::ftp
