// The proxy's reader of what an upstream sends: response heads (framing, smuggling-shaped input
// refused). Chunked bodies use the decoder the HTTP/1.1 tests cover.

#include <gtest/gtest.h>

#include "response_head.h"

namespace collage::proxy {
namespace {

HeadParse parse(std::string_view text, ResponseHead& head, bool head_request = false) {
  std::size_t consumed = 0;
  return parse_response_head(text, head_request, head, consumed);
}

TEST(ResponseHeadTest, FramingFromTheFields) {
  ResponseHead head;
  ASSERT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 12\r\nX-A: b\r\n\r\n", head),
            HeadParse::done);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, BodyKind::length);
  EXPECT_EQ(head.length, 12U);
  EXPECT_TRUE(head.keep_alive);
  ASSERT_EQ(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", head),
            HeadParse::done);
  EXPECT_EQ(head.body, BodyKind::chunked);
  ASSERT_EQ(
      parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", head),
      HeadParse::done);
  EXPECT_EQ(head.body, BodyKind::chunked);
  EXPECT_FALSE(head.keep_alive);  // both framings: never reuse the connection
  ASSERT_EQ(parse("HTTP/1.0 200 OK\r\n\r\n", head), HeadParse::done);
  EXPECT_EQ(head.body, BodyKind::until_close);
  EXPECT_FALSE(head.keep_alive);
  ASSERT_EQ(parse("HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n", head),
            HeadParse::done);
  EXPECT_EQ(head.body, BodyKind::none);
  ASSERT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", head, true), HeadParse::done);
  EXPECT_EQ(head.body, BodyKind::none);
  ASSERT_EQ(parse("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\n", head),
            HeadParse::done);
  EXPECT_FALSE(head.keep_alive);
}

TEST(ResponseHeadTest, RefusesWhatCouldSmuggle) {
  ResponseHead head;
  for (const std::string_view bad : {
           "HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\n",
           "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
           "HTTP/1.1 200 OK\r\nContent-Length: 5x\r\n\r\n",
           "HTTP/1.1 200 OK\r\nX-A: b\r\n folded\r\n\r\n",
           "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
           "HTTP/2.0 200 OK\r\n\r\n",
           "HTTP/1.1 20 OK\r\n\r\n",
           "HTTP/1.1 999 OK\r\n\r\n",
           "NOT HTTP\r\n\r\n",
       }) {
    EXPECT_EQ(parse(bad, head), HeadParse::bad) << bad;
  }
  EXPECT_EQ(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n", head), HeadParse::need_more);
  EXPECT_EQ(parse(std::string(kMaxResponseHead + 1, 'x'), head), HeadParse::bad);
}

TEST(ResponseHeadTest, HopByHop) {
  EXPECT_TRUE(is_hop_by_hop("keep-alive", ""));
  EXPECT_TRUE(is_hop_by_hop("X-Secret", "close, x-secret"));
  EXPECT_FALSE(is_hop_by_hop("X-Kept", "close, x-secret"));
}

}  // namespace
}  // namespace collage::proxy
