#include "collage/address_rules.h"

#include <charconv>
#include <string>

#include "collage/asio.h"

namespace collage {
namespace {

// The address as a block of full length; IPv4-mapped IPv6 becomes IPv4.
std::optional<AddressBlock> parse_address(std::string_view text) {
  asio::error_code ec;
  const asio::ip::address address = asio::ip::make_address(std::string(text), ec);
  if (ec) {
    return std::nullopt;
  }
  AddressBlock block;
  if (address.is_v4() || (address.is_v6() && address.to_v6().is_v4_mapped())) {
    const asio::ip::address_v4 v4 =
        address.is_v4() ? address.to_v4()
                        : asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    const auto bytes = v4.to_bytes();
    std::copy(bytes.begin(), bytes.end(), block.bytes.begin());
    block.prefix = 32;
  } else {
    block.v6 = true;
    block.bytes = address.to_v6().to_bytes();
    block.prefix = 128;
  }
  return block;
}

}  // namespace

std::optional<AddressBlock> parse_address_block(std::string_view word) {
  if (word == "all") {
    AddressBlock any;
    any.prefix = -1;  // matches both families
    return any;
  }
  const std::size_t slash = word.find('/');
  std::optional<AddressBlock> block = parse_address(word.substr(0, slash));
  if (!block || slash == std::string_view::npos) {
    return block;
  }
  const std::string_view bits = word.substr(slash + 1);
  int prefix = 0;
  const auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
  const int most = block->v6 ? 128 : 32;
  if (ec != std::errc() || end != bits.data() + bits.size() || prefix < 0 || prefix > most ||
      bits.empty()) {
    return std::nullopt;
  }
  block->prefix = prefix;
  return block;
}

bool AddressRules::matches(std::string_view address) const {
  const std::optional<AddressBlock> client = parse_address(address);
  if (!client) {
    return false;
  }
  for (const AddressBlock& block : blocks_) {
    if (block.prefix < 0) {
      return true;
    }
    if (block.v6 != client->v6) {
      continue;
    }
    int bits = block.prefix;
    bool same = true;
    for (std::size_t i = 0; bits > 0 && same; ++i, bits -= 8) {
      const std::uint8_t mask = bits >= 8 ? 0xff : static_cast<std::uint8_t>(0xff << (8 - bits));
      same = (block.bytes[i] & mask) == (client->bytes[i] & mask);
    }
    if (same) {
      return true;
    }
  }
  return false;
}

}  // namespace collage
