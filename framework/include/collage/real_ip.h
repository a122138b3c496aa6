#pragma once
// The real client behind proxies we trust (RealIpFrom, RealIpHeader): when a request comes from
// one of them, the client is the rightmost address of its X-Forwarded-For (or Forwarded) chain
// that is not itself a trusted proxy, as nginx's real_ip module with real_ip_recursive. Logs,
// access rules, CGI's REMOTE_ADDR and the proxy store then see that client.

#include <string>
#include <string_view>

#include "collage/address_rules.h"
#include "collage/metadata.h"

namespace collage {

struct RealIp {
  AddressRules trusted;  // empty: the feature is off
  std::string header = "X-Forwarded-For";
};

// The client address the request stands for, or empty when the peer is not trusted or the header
// names no valid address.
std::string real_client_address(const RealIp& rules, std::string_view peer_address,
                                const MetadataView& headers);

}  // namespace collage
