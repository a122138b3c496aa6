// Fuzzes the PROXY protocol header reader (what a load balancer, or anyone who reaches a
// proxy_protocol listener, sends first). Invariants: a parsed header lies inside the input and
// within the largest size the protocol allows; a named client's address is one inet_pton takes.

#include <arpa/inet.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "collage/proxy_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace collage;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  ProxyHeader header;
  std::size_t consumed = 0;
  if (parse_proxy_header(input, header, consumed) == ProxyParse::done) {
    if (consumed == 0 || consumed > input.size() || consumed > kMaxProxyHeader) {
      std::abort();
    }
    if (!header.local) {
      unsigned char bytes[16];
      const int family = header.source_address.find(':') != std::string::npos ? AF_INET6 : AF_INET;
      if (::inet_pton(family, header.source_address.c_str(), bytes) != 1) {
        std::abort();
      }
    }
  }
  return 0;
}
