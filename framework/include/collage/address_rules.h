#pragma once
// Client address rules: "all", single addresses and CIDR blocks, IPv4 and IPv6 (AllowFrom and
// DenyFrom, trusted proxies for the real client address and the proxy store's forwarding). An IPv4
// client seen through an IPv6 socket (::ffff:a.b.c.d) matches IPv4 rules.

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace collage {

struct AddressBlock {
  bool v6 = false;
  std::array<std::uint8_t, 16> bytes{};  // v4 uses the first 4
  int prefix = 0;                        // bits that must match
};

// "all" → every address; "10.0.0.0/8", "::1", "2001:db8::/32". Empty on a bad word.
std::optional<AddressBlock> parse_address_block(std::string_view word);

class AddressRules {
 public:
  void add(const AddressBlock& block) { blocks_.push_back(block); }
  bool empty() const { return blocks_.empty(); }
  // Whether the textual client address falls in any block (false if it does not parse).
  bool matches(std::string_view address) const;

 private:
  std::vector<AddressBlock> blocks_;
};

}  // namespace collage
