// The proxy's readers of what an upstream sends: response heads (framing, smuggling-shaped
// input refused) and chunked bodies split at every byte.

#include <gtest/gtest.h>

#include "chunked.h"
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

TEST(ChunkedTest, SplitAtEveryByteGivesTheSameBody) {
  const std::string wire =
      "5;ext=1\r\nhello\r\n1\r\n \r\n6\r\nworld!\r\n0\r\nX-Trailer: yes\r\n\r\n";
  for (std::size_t split = 0; split <= wire.size(); ++split) {
    ChunkedDecoder decoder;
    std::string body;
    std::string pending;
    ChunkedDecoder::Result result = ChunkedDecoder::Result::more;
    for (const std::string_view piece :
         {std::string_view(wire).substr(0, split), std::string_view(wire).substr(split)}) {
      pending += piece;
      for (;;) {
        std::size_t consumed = 0;
        result = decoder.feed(pending, 4, body, consumed);  // small parts too
        pending.erase(0, consumed);
        if (result != ChunkedDecoder::Result::more || consumed == 0) {
          break;
        }
      }
    }
    EXPECT_EQ(result, ChunkedDecoder::Result::done) << split;
    EXPECT_EQ(body, "hello world!") << split;
  }
}

TEST(ChunkedTest, RefusesBadFraming) {
  for (const std::string_view bad :
       {"g\r\n", "5\r\nhelloX\r\n", "1234567890abcdef0\r\n", "\r\n", "5\nhello"}) {
    ChunkedDecoder decoder;
    std::string body;
    std::size_t consumed = 0;
    EXPECT_EQ(decoder.feed(bad, 1024, body, consumed), ChunkedDecoder::Result::bad) << bad;
  }
}

}  // namespace
}  // namespace collage::proxy
