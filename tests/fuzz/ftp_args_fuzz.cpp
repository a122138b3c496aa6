// Fuzzes what an FTP client names: paths against a working directory, PORT and EPRT arguments.
// Invariants: a resolved path starts with '/' and never climbs with "..", a data address is an
// address inet_pton takes.

#include <arpa/inet.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ftp_format.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace collage::ftp;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t split = input.find('\n');
  const std::string_view cwd = split == std::string_view::npos ? "/" : input.substr(0, split);
  const std::string_view argument =
      split == std::string_view::npos ? input : input.substr(split + 1);
  if (const auto path = resolve_path(cwd.starts_with('/') ? cwd : "/", argument)) {
    if (path->empty() || (*path)[0] != '/' || path->find("/../") != std::string::npos ||
        path->ends_with("/..")) {
      std::abort();
    }
  }
  for (const auto& parsed : {parse_port_argument(argument), parse_eprt_argument(argument)}) {
    if (parsed) {
      unsigned char bytes[16];
      const int family = parsed->address.find(':') != std::string::npos ? AF_INET6 : AF_INET;
      if (::inet_pton(family, parsed->address.c_str(), bytes) != 1) {
        std::abort();
      }
    }
  }
  return 0;
}
