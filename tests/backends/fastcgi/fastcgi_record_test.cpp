// FastCGI records: what is written parses back, whatever way the bytes arrive.

#include <gtest/gtest.h>

#include "fastcgi_record.h"
#include "upstream.h"

namespace collage::fastcgi {
namespace {

TEST(FastCgiRecord, RoundTripsAtEverySplit) {
  std::string bytes;
  append_begin_request(1, true, bytes);
  std::string params;
  append_name_value("SCRIPT_NAME", "/a.php", params);
  append_name_value("LONG", std::string(300, 'v'), params);  // a four-byte length
  append_stream(kParams, 1, params, bytes);
  append_record(kParams, 1, {}, bytes);
  const std::string big(70000, 'x');  // more than one record's worth
  append_stream(kStdout, 1, big, bytes);
  const char end[8] = {0, 0, 1, 2, 0, 0, 0, 0};
  append_record(kEndRequest, 1, std::string_view(end, 8), bytes);
  EXPECT_EQ(bytes.size() % 8, 0u);

  for (std::size_t cut : {std::size_t{0}, std::size_t{3}, std::size_t{8}, std::size_t{9},
                          std::size_t{50}, bytes.size() / 2, bytes.size()}) {
    std::string buffer = bytes.substr(0, cut);
    std::size_t fed = cut;
    std::string out_stdout;
    std::string out_params;
    int records = 0;
    bool ended = false;
    while (!ended) {
      Record record;
      std::size_t consumed = 0;
      const ParseResult result = parse_record(buffer, record, consumed);
      ASSERT_NE(result, ParseResult::bad_version);
      if (result == ParseResult::need_more) {
        ASSERT_LT(fed, bytes.size());
        buffer += bytes[fed++];
        continue;
      }
      ++records;
      EXPECT_EQ(record.request_id, 1);
      if (record.type == kStdout)
        out_stdout += record.content;
      if (record.type == kParams)
        out_params += record.content;
      if (record.type == kEndRequest) {
        std::uint32_t app = 0;
        std::uint8_t protocol = 9;
        ASSERT_TRUE(parse_end_request(record.content, app, protocol));
        EXPECT_EQ(app, 258u);
        EXPECT_EQ(protocol, kRequestComplete);
        ended = true;
      }
      buffer.erase(0, consumed);
    }
    EXPECT_EQ(out_stdout, big);
    EXPECT_EQ(out_params, params);
    EXPECT_EQ(records, 1 + 2 + 2 + 1);
  }
  EXPECT_EQ(params.substr(0, 2), std::string("\x0b\x06", 2));
  EXPECT_EQ(static_cast<unsigned char>(params[19]), 4u);     // "LONG": one byte
  EXPECT_EQ(static_cast<unsigned char>(params[20]), 0x80u);  // 300: four bytes, high bit set
}

TEST(FastCgiRecord, RefusesAnotherVersion) {
  Record record;
  std::size_t consumed = 0;
  EXPECT_EQ(parse_record(std::string("\x02\x06\x00\x01\x00\x00\x00\x00", 8), record, consumed),
            ParseResult::bad_version);
}

TEST(FastCgiUpstream, Addresses) {
  UpstreamAddress a;
  std::string error;
  ASSERT_TRUE(parse_upstream("unix:/run/php/php-fpm.sock", a, error));
  EXPECT_EQ(a.family, AF_UNIX);
  ASSERT_TRUE(parse_upstream("localhost:9000", a, error));
  EXPECT_EQ(a.host, "127.0.0.1");
  ASSERT_TRUE(parse_upstream("[::1]:9000", a, error));
  EXPECT_EQ(a.family, AF_INET6);
  EXPECT_FALSE(parse_upstream("php-host:9000", a, error));
  EXPECT_FALSE(parse_upstream("127.0.0.1:0", a, error));
  EXPECT_FALSE(parse_upstream("127.0.0.1", a, error));
  EXPECT_FALSE(parse_upstream("unix:", a, error));
}

}  // namespace
}  // namespace collage::fastcgi
