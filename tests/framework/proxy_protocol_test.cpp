// PROXY headers, v1 and v2: every prefix of a valid header asks for more, the whole one names
// the client, malformed ones are refused.

#include <gtest/gtest.h>

#include "collage/proxy_protocol.h"

namespace collage {
namespace {

TEST(ProxyProtocolTest, V1EveryPrefixWantsMoreThenParses) {
  const std::string header = "PROXY TCP4 198.51.100.7 10.0.0.1 40000 443\r\nGET /";
  const std::size_t end = header.find("\r\n") + 2;
  ProxyHeader parsed;
  std::size_t consumed = 0;
  for (std::size_t n = 0; n < end; ++n) {
    EXPECT_EQ(parse_proxy_header(header.substr(0, n), parsed, consumed), ProxyParse::need_more)
        << n;
  }
  ASSERT_EQ(parse_proxy_header(header, parsed, consumed), ProxyParse::done);
  EXPECT_EQ(consumed, end);
  EXPECT_EQ(parsed.source_address, "198.51.100.7");
  EXPECT_EQ(parsed.source_port, 40000);
  EXPECT_EQ(parsed.destination_port, 443);
  EXPECT_EQ(parse_proxy_header("PROXY UNKNOWN\r\n", parsed, consumed), ProxyParse::done);
  EXPECT_TRUE(parsed.local);
  EXPECT_EQ(proxy_header_v1("198.51.100.7", 40000, "10.0.0.1", 443),
            "PROXY TCP4 198.51.100.7 10.0.0.1 40000 443\r\n");
}

TEST(ProxyProtocolTest, V2) {
  std::string header("\r\n\r\n\0\r\nQUIT\n", 12);
  header += std::string("\x21\x11\x00\x0c", 4);
  header += std::string("\xc6\x33\x64\x07\x0a\x00\x00\x01\x9c\x40\x01\xbb", 12);
  ProxyHeader parsed;
  std::size_t consumed = 0;
  for (std::size_t n = 0; n < header.size(); ++n) {
    EXPECT_EQ(parse_proxy_header(header.substr(0, n), parsed, consumed), ProxyParse::need_more)
        << n;
  }
  ASSERT_EQ(parse_proxy_header(header, parsed, consumed), ProxyParse::done);
  EXPECT_EQ(consumed, header.size());
  EXPECT_EQ(parsed.source_address, "198.51.100.7");
  EXPECT_EQ(parsed.source_port, 40000);
  EXPECT_EQ(parsed.destination_address, "10.0.0.1");
}

TEST(ProxyProtocolTest, Refused) {
  ProxyHeader parsed;
  std::size_t consumed = 0;
  for (const std::string_view bad : {
           "GET / HTTP/1.1\r\n",
           "PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n",
           "PROXY TCP4 1.2.3.999 5.6.7.8 1 2\r\n",
           "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",
           "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n",
           "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",
       }) {
    EXPECT_EQ(parse_proxy_header(bad, parsed, consumed), ProxyParse::bad) << bad;
  }
  EXPECT_EQ(parse_proxy_header(std::string(200, 'P').insert(0, "PROXY "), parsed, consumed),
            ProxyParse::bad);
}

}  // namespace
}  // namespace collage
