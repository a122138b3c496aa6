#pragma once
// The PROXY protocol (HAProxy's, versions 1 and 2): a header a load balancer puts before a
// connection's first byte, naming the client it relays. Read on listeners that say
// proxy_protocol="on" (the client's address then stands in for the balancer's everywhere: logs,
// limits, access rules); written by the proxy store before a request to an upstream that wants it.

#include <cstdint>
#include <string>
#include <string_view>

namespace collage {

inline constexpr std::size_t kMaxProxyHeader = 16 + 216;  // v2's largest; v1's is 107

struct ProxyHeader {
  bool local = false;  // v2 LOCAL or v1 UNKNOWN: the connection's own ends stand
  std::string source_address;
  std::uint16_t source_port = 0;
  std::string destination_address;
  std::uint16_t destination_port = 0;
};

enum class ProxyParse : std::uint8_t { done, need_more, bad };

// Parses a header at the start of input; on done, `consumed` is its length.
ProxyParse parse_proxy_header(std::string_view input, ProxyHeader& header, std::size_t& consumed);

// "PROXY TCP4 src dst sport dport\r\n" (TCP6 for IPv6 addresses).
std::string proxy_header_v1(std::string_view source, std::uint16_t source_port,
                            std::string_view destination, std::uint16_t destination_port);

}  // namespace collage
