// Address rules and Basic credentials, the parsing under the access modules.

#include <gtest/gtest.h>

#include "collage/address_rules.h"
#include "credentials.h"

namespace collage {
namespace {

AddressRules rules(std::initializer_list<const char*> words) {
  AddressRules out;
  for (const char* word : words) {
    auto block = parse_address_block(word);
    EXPECT_TRUE(block) << word;
    if (block) {
      out.add(*block);
    }
  }
  return out;
}

TEST(AddressRules, BlocksOfBothFamilies) {
  const AddressRules r = rules({"10.0.0.0/8", "192.168.1.7", "2001:db8::/32", "::1"});
  EXPECT_TRUE(r.matches("10.255.0.1"));
  EXPECT_FALSE(r.matches("11.0.0.1"));
  EXPECT_TRUE(r.matches("192.168.1.7"));
  EXPECT_FALSE(r.matches("192.168.1.8"));
  EXPECT_TRUE(r.matches("2001:db8:1::5"));
  EXPECT_FALSE(r.matches("2001:db9::5"));
  EXPECT_TRUE(r.matches("::1"));
  EXPECT_FALSE(r.matches("::2"));
  EXPECT_TRUE(r.matches("::ffff:10.1.2.3"));  // IPv4 through an IPv6 socket
  EXPECT_FALSE(r.matches("not an address"));
  EXPECT_FALSE(r.matches(""));
}

TEST(AddressRules, PrefixesThatAreNotWholeBytes) {
  const AddressRules r = rules({"172.16.0.0/12", "0.0.0.0/0"});
  EXPECT_TRUE(r.matches("172.31.255.255"));
  EXPECT_TRUE(r.matches("8.8.8.8"));  // /0 matches every IPv4 address
  EXPECT_FALSE(r.matches("::1"));     // but no IPv6 one
  const AddressRules narrow = rules({"172.16.0.0/12"});
  EXPECT_FALSE(narrow.matches("172.32.0.0"));
  EXPECT_TRUE(rules({"all"}).matches("::1"));
}

TEST(AddressRules, BadWordsAreRefused) {
  for (const char* word : {"10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/x", "banana", "",
                           "10.0.0.0/8/8", "10.0.0.256"}) {
    EXPECT_FALSE(parse_address_block(word)) << word;
  }
}

TEST(BasicCredentials, DecodesUserAndPassword) {
  std::string user;
  std::string password;
  ASSERT_TRUE(basic_auth::parse_basic("Basic YWxpY2U6d29uZGVybGFuZA==", user, password));
  EXPECT_EQ(user, "alice");
  EXPECT_EQ(password, "wonderland");
  ASSERT_TRUE(basic_auth::parse_basic("basic  YTpiOmM=", user, password));
  EXPECT_EQ(user, "a");
  EXPECT_EQ(password, "b:c");  // the first colon splits (RFC 7617 §2)
  EXPECT_FALSE(basic_auth::parse_basic("Basic bm9jb2xvbg==", user, password));  // "nocolon"
  EXPECT_FALSE(basic_auth::parse_basic("Bearer YTpi", user, password));
  EXPECT_FALSE(basic_auth::parse_basic("Basic YTpi!", user, password));
  EXPECT_FALSE(basic_auth::parse_basic("Basic", user, password));
}

TEST(BasicCredentials, Base64EveryPaddingAndEveryByte) {
  std::string all;
  for (int i = 0; i < 256; ++i) {
    all += static_cast<char>(i);
  }
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (std::size_t n = 0; n <= all.size(); n += 1) {
    // Encode by hand here, then decode with the module.
    const std::string input = all.substr(0, n);
    std::string encoded;
    for (std::size_t i = 0; i < input.size(); i += 3) {
      std::uint32_t group = static_cast<unsigned char>(input[i]) << 16;
      if (i + 1 < input.size()) {
        group |= static_cast<unsigned char>(input[i + 1]) << 8;
      }
      if (i + 2 < input.size()) {
        group |= static_cast<unsigned char>(input[i + 2]);
      }
      encoded += kAlphabet[(group >> 18) & 63];
      encoded += kAlphabet[(group >> 12) & 63];
      encoded += i + 1 < input.size() ? kAlphabet[(group >> 6) & 63] : '=';
      encoded += i + 2 < input.size() ? kAlphabet[group & 63] : '=';
    }
    std::string decoded;
    ASSERT_TRUE(basic_auth::decode_base64(encoded, decoded)) << n;
    EXPECT_EQ(decoded, input) << n;
  }
  std::string out;
  EXPECT_FALSE(basic_auth::decode_base64("abc", out));
  EXPECT_FALSE(basic_auth::decode_base64("a=bc", out));
  EXPECT_FALSE(basic_auth::decode_base64("ab=c", out));
}

}  // namespace
}  // namespace collage
