#include "http1_parser.h"

#include <gtest/gtest.h>

#include <string>

namespace collage::http1 {
namespace {

class ParserTest : public ::testing::Test {
 protected:
  // Parses a head; `text` must end with the empty line.
  int parse(std::string text) {
    block_ = std::move(text);
    return parse_request_head(block_, limits_, head_).status;
  }
  ParseLimits limits_;
  RequestHead head_;
  std::string block_;
};

TEST(FindHeadEnd, FindsTheEmptyLine) {
  EXPECT_EQ(find_head_end("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 27u);
  EXPECT_EQ(find_head_end("GET / HTTP/1.1\nHost: x\n\nbody"), 24u);
  EXPECT_EQ(find_head_end("GET / HTTP/1.1\r\nHost: x\r\n"), 0u);
  EXPECT_EQ(find_head_end("GET / HTTP/1.1\r\nHost: x\r\n\r"), 0u);
  EXPECT_EQ(find_head_end(""), 0u);
}

TEST_F(ParserTest, ParsesATypicalBrowserRequest) {
  ASSERT_EQ(parse("GET /index.html?lang=en HTTP/1.1\r\n"
                  "Host: Example.com:8080\r\n"
                  "User-Agent: Mozilla/5.0 (X11; Linux x86_64)\r\n"
                  "Accept: text/html,*/*;q=0.8\r\n"
                  "Accept-Encoding: gzip, deflate, br\r\n"
                  "X-Empty:\r\n\r\n"),
            0);
  EXPECT_EQ(head_.method, Method::get);
  EXPECT_EQ(head_.method_token, "GET");
  EXPECT_EQ(head_.target, "/index.html?lang=en");
  EXPECT_EQ(head_.path, "/index.html");
  EXPECT_EQ(head_.query, "lang=en");
  EXPECT_EQ(head_.host, "Example.com");
  EXPECT_EQ(head_.version_minor, 1);
  EXPECT_TRUE(head_.keep_alive);
  EXPECT_EQ(head_.headers.size(), 5u);
  EXPECT_EQ(head_.headers.get("accept-encoding"), "gzip, deflate, br");
  EXPECT_TRUE(head_.headers.contains("X-Empty"));
  EXPECT_EQ(head_.request_line, "GET /index.html?lang=en HTTP/1.1");
}

TEST_F(ParserTest, AcceptsBareLineFeeds) {
  ASSERT_EQ(parse("GET / HTTP/1.1\nHost: x\n\n"), 0);
  EXPECT_EQ(head_.host, "x");
}

TEST_F(ParserTest, TrimsOptionalWhitespaceAroundValues) {
  ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nX-A: \t padded \t\r\n\r\n"), 0);
  EXPECT_EQ(head_.headers.get("x-a"), "padded");
}

TEST_F(ParserTest, Http10DefaultsToClose) {
  ASSERT_EQ(parse("GET / HTTP/1.0\r\n\r\n"), 0);
  EXPECT_FALSE(head_.keep_alive);
  ASSERT_EQ(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), 0);
  EXPECT_TRUE(head_.keep_alive);
  ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: foo, close\r\n\r\n"), 0);
  EXPECT_FALSE(head_.keep_alive);
}

TEST_F(ParserTest, AbsoluteFormTakesHostFromTarget) {
  ASSERT_EQ(parse("GET http://Other.example:81/p?q HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
  EXPECT_EQ(head_.form, TargetForm::absolute);
  EXPECT_EQ(head_.host, "Other.example");
  EXPECT_EQ(head_.path, "/p");
  EXPECT_EQ(head_.query, "q");
  ASSERT_EQ(parse("GET HTTPS://h HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
  EXPECT_EQ(head_.path, "/");
  ASSERT_EQ(parse("GET http://h?x=1 HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
  EXPECT_EQ(head_.path, "/");
  EXPECT_EQ(head_.query, "x=1");
  EXPECT_EQ(parse("GET http://user@h/ HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
  EXPECT_EQ(parse("GET http:///x HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
}

TEST_F(ParserTest, AsteriskFormOnlyForOptions) {
  ASSERT_EQ(parse("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
  EXPECT_EQ(head_.form, TargetForm::asterisk);
  EXPECT_EQ(parse("GET * HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
}

TEST_F(ParserTest, HostRules) {
  EXPECT_EQ(parse("GET / HTTP/1.1\r\n\r\n"), 400);
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"), 400);
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), 400);
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), 400);
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n"), 400);
  ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"), 0);
  EXPECT_EQ(head_.host, "[::1]");
  ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost:\r\n\r\n"), 0);
  EXPECT_EQ(head_.host, "");
  EXPECT_EQ(parse("GET / HTTP/1.0\r\n\r\n"), 0);
}

TEST_F(ParserTest, RequestLineErrors) {
  EXPECT_EQ(parse("GET  / HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
  EXPECT_EQ(parse(" GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
  EXPECT_EQ(parse("GET /\r\nHost: x\r\n\r\n"), 400);
  EXPECT_EQ(parse("GET / HTTP/1.1 \r\nHost: x\r\n\r\n"), 400);
  EXPECT_EQ(parse("GET / http/1.1\r\nHost: x\r\n\r\n"), 400);
  EXPECT_EQ(parse("GET / HTTP/1.10\r\nHost: x\r\n\r\n"), 400);
  EXPECT_EQ(parse("GET /a\tb HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
  EXPECT_EQ(parse("GET /\x7f HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
  EXPECT_EQ(parse("GET /#frag HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
  EXPECT_EQ(parse("GET foo HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
  EXPECT_EQ(parse("GET / HTTP/2.0\r\nHost: x\r\n\r\n"), 505);
  EXPECT_EQ(parse("GET / HTTP/0.9\r\nHost: x\r\n\r\n"), 505);
  EXPECT_EQ(parse("CONNECT example.com:443 HTTP/1.1\r\nHost: x\r\n\r\n"), 501);
}

TEST_F(ParserTest, LaterMinorVersionsAreTreatedAsHttp11) {
  ASSERT_EQ(parse("GET / HTTP/1.9\r\nHost: x\r\n\r\n"), 0);
  EXPECT_TRUE(head_.keep_alive);
}

TEST_F(ParserTest, UnknownMethodsParseSoTheServerCanAnswer501) {
  ASSERT_EQ(parse("BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
  EXPECT_EQ(head_.method, Method::unknown);
  EXPECT_EQ(head_.method_token, "BREW");
  ASSERT_EQ(parse("get / HTTP/1.1\r\nHost: x\r\n\r\n"), 0);
  EXPECT_EQ(head_.method, Method::unknown);  // methods are case-sensitive
}

TEST_F(ParserTest, FieldErrors) {
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nA B: c\r\n\r\n"), 400);
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nA : c\r\n\r\n"), 400);
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\n: c\r\n\r\n"), 400);
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n"), 400);
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n c\r\n\r\n"), 400);
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nA: b\rc\r\n\r\n"), 400);
  static const char kNul[] = "GET / HTTP/1.1\r\nHost: x\r\nA: b\0c\r\n\r\n";
  EXPECT_EQ(parse(std::string(kNul, sizeof kNul - 1)), 400);
  ASSERT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nA: caf\xc3\xa9\r\n\r\n"), 0);  // obs-text
}

TEST_F(ParserTest, Limits) {
  limits_.max_request_line = 20;
  limits_.max_field_size = 20;
  limits_.max_fields = 3;
  EXPECT_EQ(parse("GET /" + std::string(30, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n"), 414);
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nX: " + std::string(30, 'a') + "\r\n\r\n"), 431);
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"), 431);
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\n\r\n"), 0);
}

TEST_F(ParserTest, ContentLengthRules) {
  ASSERT_EQ(parse("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 42\r\n\r\n"), 0);
  EXPECT_EQ(head_.content_length, 42u);
  ASSERT_EQ(parse("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 7, 7\r\nContent-Length: 7\r\n\r\n"),
            0);
  EXPECT_EQ(head_.content_length, 7u);
  EXPECT_EQ(parse("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\nContent-Length: 8\r\n\r\n"),
            400);
  EXPECT_EQ(parse("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: +7\r\n\r\n"), 400);
  EXPECT_EQ(parse("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n"), 400);
  EXPECT_EQ(parse("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n"), 400);
  EXPECT_EQ(parse("PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n"),
            400);
}

TEST_F(ParserTest, TransferEncodingRules) {
  ASSERT_EQ(parse("PUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n"), 0);
  EXPECT_TRUE(head_.chunked);
  EXPECT_EQ(parse("PUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                  "Content-Length: 5\r\n\r\n"),
            400);
  EXPECT_EQ(parse("PUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n"), 400);
  EXPECT_EQ(parse("PUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"), 400);
  EXPECT_EQ(parse("PUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"), 400);
  EXPECT_EQ(parse("PUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n"),
            400);
  EXPECT_EQ(parse("PUT / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"), 501);
  EXPECT_EQ(parse("PUT / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
}

TEST_F(ParserTest, Expectations) {
  ASSERT_EQ(parse("PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\n\r\n"), 0);
  EXPECT_TRUE(head_.expect_continue);
  ASSERT_EQ(parse("PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n"), 0);
  EXPECT_FALSE(head_.expect_continue);  // RFC 9110 §10.1.1: ignored for HTTP/1.0
  EXPECT_EQ(parse("PUT / HTTP/1.1\r\nHost: x\r\nExpect: something-else\r\n\r\n"), 417);
}

std::string decode_all(const std::string& input, ChunkedDecoder::Status& final_status,
                       std::size_t step_size = 1 << 20) {
  ChunkedDecoder decoder;
  std::string out;
  std::size_t fed = 0;  // bytes made available so far
  std::size_t pos = 0;
  final_status = ChunkedDecoder::Status::need_more;
  while (true) {
    fed = std::min(input.size(), std::max(fed, pos) + step_size);
    auto step = decoder.step(std::string_view(input).substr(pos, fed - pos));
    pos += step.consumed;
    if (step.status == ChunkedDecoder::Status::data) {
      out += step.data;
      continue;
    }
    if (step.status != ChunkedDecoder::Status::need_more || fed == input.size()) {
      final_status = step.status;
      return out;
    }
  }
}

TEST(ChunkedDecoder, DecodesWithExtensionsAndTrailers) {
  ChunkedDecoder::Status status;
  const std::string body =
      "4\r\nWiki\r\n5;name=val\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n"
      "Expires: never\r\n\r\n";
  EXPECT_EQ(decode_all(body, status), "Wikipedia in\r\n\r\nchunks.");
  EXPECT_EQ(status, ChunkedDecoder::Status::done);
  // Byte by byte gives the same result.
  EXPECT_EQ(decode_all(body, status, 1), "Wikipedia in\r\n\r\nchunks.");
  EXPECT_EQ(status, ChunkedDecoder::Status::done);
}

TEST(ChunkedDecoder, RefusesBadFraming) {
  ChunkedDecoder::Status status;
  for (const char* bad :
       {"x\r\n", "\r\n", "4\nWiki\r\n0\r\n\r\n", "4\r\nWikiX\r\n", "4\r\nWiki\r\r",
        "1000000000000000\r\n", "4;\x01\r\n", "0\r\nBad\nTrailer\r\n\r\n"}) {
    decode_all(bad, status);
    EXPECT_EQ(status, ChunkedDecoder::Status::error) << bad;
  }
}

TEST(ChunkedDecoder, GiveBackReturnsUntakenData) {
  ChunkedDecoder decoder;
  const std::string input = "6\r\nabcdef\r\n0\r\n\r\n";
  auto step = decoder.step(input);
  ASSERT_EQ(step.status, ChunkedDecoder::Status::data);
  EXPECT_EQ(step.data, "abcdef");
  decoder.give_back(4);  // only "ab" was taken
  std::size_t pos = step.consumed - 4;
  step = decoder.step(std::string_view(input).substr(pos));
  ASSERT_EQ(step.status, ChunkedDecoder::Status::data);
  EXPECT_EQ(step.data, "cdef");
  pos += step.consumed;
  step = decoder.step(std::string_view(input).substr(pos));
  EXPECT_EQ(step.status, ChunkedDecoder::Status::done);
}

}  // namespace
}  // namespace collage::http1
