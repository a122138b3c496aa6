#include "http1_response.h"

#include <gtest/gtest.h>

namespace collage::http1 {
namespace {

std::string head_of(const Entity& e, bool head_request, bool keep_alive, int minor) {
  std::string out;
  append_response_head(e, choose_framing(e, head_request, minor), keep_alive, minor, out);
  return out;
}

TEST(ResponseHead, KnownLengthBody) {
  Entity e;
  e.set_body("hello", "text/plain");
  e.etag = "\"x\"";
  e.last_modified = 784111777;
  e.headers.add("Accept-Ranges", "bytes");
  const std::string out = head_of(e, false, true, 1);
  EXPECT_EQ(out.rfind("HTTP/1.1 200 OK\r\nServer: Collage\r\nDate: ", 0), 0u);
  EXPECT_NE(out.find("\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n"
                     "Last-Modified: Sun, 06 Nov 1994 08:49:37 GMT\r\nETag: \"x\"\r\n"
                     "Accept-Ranges: bytes\r\n\r\n"),
            std::string::npos)
      << out;
  EXPECT_EQ(out.find("Connection:"), std::string::npos);
}

TEST(ResponseHead, UnknownLengthIsChunkedFor11AndCloseDelimitedFor10) {
  Entity e;
  e.content_type = "text/plain";
  EXPECT_EQ(choose_framing(e, false, 1), BodyFraming::chunked);
  EXPECT_NE(head_of(e, false, true, 1).find("Transfer-Encoding: chunked\r\n"), std::string::npos);
  EXPECT_EQ(choose_framing(e, false, 0), BodyFraming::close);
  EXPECT_NE(head_of(e, false, true, 0).find("Connection: close\r\n"), std::string::npos);
}

TEST(ResponseHead, BodylessStatusesAndHead) {
  Entity e;
  e.status = 304;
  e.length = 10;
  e.content_type = "text/plain";
  EXPECT_EQ(choose_framing(e, false, 1), BodyFraming::none);
  const std::string out = head_of(e, false, true, 1);
  EXPECT_EQ(out.find("Content-Length"), std::string::npos);
  EXPECT_EQ(out.find("Content-Type"), std::string::npos);
  Entity h;
  h.set_body("12345", "text/plain");
  EXPECT_EQ(choose_framing(h, true, 1), BodyFraming::none);
  EXPECT_NE(head_of(h, true, true, 1).find("Content-Length: 5\r\n"), std::string::npos);
}

TEST(ResponseHead, ConnectionHeader) {
  Entity e;
  e.set_error(404);
  EXPECT_NE(head_of(e, false, false, 1).find("Connection: close\r\n"), std::string::npos);
  EXPECT_NE(head_of(e, false, true, 0).find("Connection: keep-alive\r\n"), std::string::npos);
  EXPECT_NE(head_of(e, false, true, 1).find("HTTP/1.1 404 Not Found\r\n"), std::string::npos);
}

}  // namespace
}  // namespace collage::http1
