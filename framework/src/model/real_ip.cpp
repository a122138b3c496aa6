#include "collage/real_ip.h"

#include <arpa/inet.h>

#include <vector>

namespace collage {
namespace {

// One address of a chain: "203.0.113.9", "[2001:db8::1]:4711" or Forwarded's "for=..." form.
std::string address_of(std::string_view item, bool forwarded) {
  item = trim_ows(item);
  if (forwarded) {
    // Forwarded: for=…;proto=… — take the for= pair of this element.
    std::string_view found;
    while (!item.empty()) {
      const std::size_t semicolon = item.find(';');
      const std::string_view pair = trim_ows(item.substr(0, semicolon));
      if (istarts_with(pair, "for=")) {
        found = pair.substr(4);
      }
      item = semicolon == std::string_view::npos ? std::string_view() : item.substr(semicolon + 1);
    }
    item = found;
    if (item.size() >= 2 && item.front() == '"' && item.back() == '"') {
      item = item.substr(1, item.size() - 2);
    }
  }
  if (item.starts_with('[')) {
    const std::size_t close = item.find(']');
    item = close == std::string_view::npos ? std::string_view() : item.substr(1, close - 1);
  } else if (item.find(':') == item.rfind(':') && item.find(':') != std::string_view::npos) {
    item = item.substr(0, item.find(':'));  // IPv4 with a port
  }
  std::string address(item);
  unsigned char bytes[16];
  const int family = address.find(':') != std::string::npos ? AF_INET6 : AF_INET;
  return ::inet_pton(family, address.c_str(), bytes) == 1 ? address : std::string();
}

}  // namespace

std::string real_client_address(const RealIp& rules, std::string_view peer_address,
                                const MetadataView& headers) {
  if (rules.trusted.empty() || !rules.trusted.matches(peer_address)) {
    return {};
  }
  const bool forwarded = iequals(rules.header, "Forwarded");
  // Every field line of the header, in order, split at commas.
  std::vector<std::string_view> chain;
  for (const auto& [name, value] : headers.fields()) {
    if (!iequals(name, rules.header)) {
      continue;
    }
    std::string_view rest = value;
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      chain.push_back(rest.substr(0, comma));
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
  // From the right: the first address that is not a proxy we trust is the client.
  std::string last;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    std::string address = address_of(*it, forwarded);
    if (address.empty()) {
      return last;  // a malformed hop: trust nothing left of it
    }
    if (!rules.trusted.matches(address)) {
      return address;
    }
    last = std::move(address);
  }
  return last;
}

}  // namespace collage
