#pragma once
// The FTP front end's settings, built once per configuration generation from its directives.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "collage/log.h"
#include "collage/accounts.h"

namespace collage::ftp {

struct Settings {
  std::string banner = "Collage FTP server ready";
  bool anonymous = true;
  std::string anonymous_root = "/";
  std::string anonymous_upload;  // FTP path below the anonymous root where uploads may go
  std::shared_ptr<const Accounts> accounts;
  std::uint16_t passive_min = 0;  // 0: any port the kernel picks
  std::uint16_t passive_max = 0;
  std::string passive_address;  // advertised in PASV replies; empty: the control connection's
  bool require_tls = false;
  std::chrono::milliseconds idle_timeout{300'000};
  std::chrono::milliseconds data_timeout{60'000};
  std::chrono::milliseconds upload_settle_time{50};
  std::chrono::milliseconds login_delay{1'000};
  int max_login_attempts = 3;
  std::size_t max_clients = 200;
  std::size_t max_clients_per_address = 10;
  std::shared_ptr<AccessLog> transfer_log;  // xferlog; null when off
};

}  // namespace collage::ftp
