#include "collage/proxy_protocol.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include <fmt/format.h>

namespace collage {
namespace {

constexpr char kV2Signature[12] = {'\r', '\n', '\r', '\n', '\0', '\r',
                                   '\n', 'Q',  'U',  'I',  'T',  '\n'};

bool parse_port(std::string_view text, std::uint16_t& port) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value > 65535 || text.empty() ||
      (text.size() > 1 && text[0] == '0')) {
    return false;
  }
  port = static_cast<std::uint16_t>(value);
  return true;
}

bool valid_address(std::string_view text, int family) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) {
    return false;
  }
  unsigned char bytes[16];
  return ::inet_pton(family, std::string(text).c_str(), bytes) == 1;
}

ProxyParse parse_v1(std::string_view input, ProxyHeader& header, std::size_t& consumed) {
  const std::size_t end = input.find("\r\n");
  if (end == std::string_view::npos) {
    return input.size() >= 107 ? ProxyParse::bad : ProxyParse::need_more;
  }
  if (end + 2 > 107) {
    return ProxyParse::bad;
  }
  std::string_view line = input.substr(6, end - 6);  // after "PROXY "
  std::string_view parts[5];
  std::size_t count = 0;
  while (!line.empty() && count < 5) {
    const std::size_t space = line.find(' ');
    parts[count++] = line.substr(0, space);
    line = space == std::string_view::npos ? std::string_view() : line.substr(space + 1);
  }
  consumed = end + 2;
  if (count >= 1 && parts[0] == "UNKNOWN") {
    header.local = true;
    return ProxyParse::done;
  }
  const int family = parts[0] == "TCP4" ? AF_INET : parts[0] == "TCP6" ? AF_INET6 : 0;
  if (count != 5 || !line.empty() || family == 0 || !valid_address(parts[1], family) ||
      !valid_address(parts[2], family) || !parse_port(parts[3], header.source_port) ||
      !parse_port(parts[4], header.destination_port)) {
    return ProxyParse::bad;
  }
  header.source_address = parts[1];
  header.destination_address = parts[2];
  return ProxyParse::done;
}

ProxyParse parse_v2(std::string_view input, ProxyHeader& header, std::size_t& consumed) {
  if (input.size() < 16) {
    return ProxyParse::need_more;
  }
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(input[i]); };
  const std::size_t length = (std::size_t{byte(14)} << 8) | byte(15);
  if ((byte(12) >> 4) != 2 || 16 + length > kMaxProxyHeader) {
    return ProxyParse::bad;
  }
  if (input.size() < 16 + length) {
    return ProxyParse::need_more;
  }
  consumed = 16 + length;
  const int command = byte(12) & 0x0f;
  if (command == 0) {
    header.local = true;  // a health check from the balancer itself
    return ProxyParse::done;
  }
  if (command != 1) {
    return ProxyParse::bad;
  }
  const unsigned char family = byte(13);
  char text[INET6_ADDRSTRLEN];
  if (family == 0x11 && length >= 12) {  // TCP over IPv4
    if (::inet_ntop(AF_INET, input.data() + 16, text, sizeof text) == nullptr) {
      return ProxyParse::bad;
    }
    header.source_address = text;
    ::inet_ntop(AF_INET, input.data() + 20, text, sizeof text);
    header.destination_address = text;
    header.source_port = static_cast<std::uint16_t>((byte(24) << 8) | byte(25));
    header.destination_port = static_cast<std::uint16_t>((byte(26) << 8) | byte(27));
    return ProxyParse::done;
  }
  if (family == 0x21 && length >= 36) {  // TCP over IPv6
    if (::inet_ntop(AF_INET6, input.data() + 16, text, sizeof text) == nullptr) {
      return ProxyParse::bad;
    }
    header.source_address = text;
    ::inet_ntop(AF_INET6, input.data() + 32, text, sizeof text);
    header.destination_address = text;
    header.source_port = static_cast<std::uint16_t>((byte(48) << 8) | byte(49));
    header.destination_port = static_cast<std::uint16_t>((byte(50) << 8) | byte(51));
    return ProxyParse::done;
  }
  if (family == 0x00) {
    header.local = true;  // UNSPEC: nothing to say about the ends
    return ProxyParse::done;
  }
  return ProxyParse::bad;  // UDP and Unix sockets are not what an HTTP listener relays
}

}  // namespace

ProxyParse parse_proxy_header(std::string_view input, ProxyHeader& header, std::size_t& consumed) {
  header = ProxyHeader{};
  consumed = 0;
  const std::size_t known = std::min(input.size(), sizeof kV2Signature);
  if (std::memcmp(input.data(), kV2Signature, known) == 0) {
    return known < sizeof kV2Signature ? ProxyParse::need_more : parse_v2(input, header, consumed);
  }
  constexpr std::string_view kV1 = "PROXY ";
  const std::size_t prefix = std::min(input.size(), kV1.size());
  if (input.substr(0, prefix) != kV1.substr(0, prefix)) {
    return ProxyParse::bad;
  }
  return prefix < kV1.size() ? ProxyParse::need_more : parse_v1(input, header, consumed);
}

std::string proxy_header_v1(std::string_view source, std::uint16_t source_port,
                            std::string_view destination, std::uint16_t destination_port) {
  const bool v6 =
      source.find(':') != std::string_view::npos || destination.find(':') != std::string_view::npos;
  return fmt::format("PROXY {} {} {} {} {}\r\n", v6 ? "TCP6" : "TCP4", source, destination,
                     source_port, destination_port);
}

}  // namespace collage
