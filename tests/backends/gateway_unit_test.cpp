// The CGI header parser and the meta-variable helpers.

#include <gtest/gtest.h>

#include "meta_variables.h"
#include "script_head.h"

namespace collage::gateway {
namespace {

TEST(ScriptHead, IncompleteUntilTheEmptyLineWhereverTheOutputIsCut) {
  const std::string output =
      "Status: 201 Made\r\nContent-Type: text/html\nX-One: a\r\nLocation: /x\r\n"
      "Connection: close\r\n\r\nbody";
  const std::size_t head_end = output.find("body");
  for (std::size_t n = 0; n < head_end; ++n) {
    ScriptHead head;
    std::size_t consumed = 0;
    std::string error;
    ASSERT_EQ(parse_script_head(output.substr(0, n), false, head, consumed, error),
              HeadResult::incomplete)
        << n;
  }
  ScriptHead head;
  std::size_t consumed = 0;
  std::string error;
  ASSERT_EQ(parse_script_head(output, false, head, consumed, error), HeadResult::complete);
  EXPECT_EQ(consumed, head_end);
  EXPECT_EQ(head.status, 201);
  EXPECT_EQ(head.content_type, "text/html");
  EXPECT_EQ(head.location, "/x");
  ASSERT_EQ(head.fields.size(), 1u);  // Connection is the server's
  EXPECT_EQ(head.fields[0].first, "X-One");
}

TEST(ScriptHead, MalformedOutputIsRefused) {
  for (const char* bad :
       {"garbage\n\n", "\nbody", "Status: 99 Low\n\n", "Status: abc\n\n", "Bad Name: x\n\n",
        "X-Ok: a\x01z\n\n", "X-Only: 1\n\n", "Status: 1000\n\n"}) {
    ScriptHead head;
    std::size_t consumed = 0;
    std::string error;
    EXPECT_EQ(parse_script_head(bad, false, head, consumed, error), HeadResult::malformed) << bad;
    EXPECT_FALSE(error.empty());
  }
}

TEST(ScriptHead, NonParsedHeaderScriptsStartWithAStatusLine) {
  ScriptHead head;
  std::size_t consumed = 0;
  std::string error;
  ASSERT_EQ(parse_script_head("HTTP/1.1 203 Other\r\nX-A: b\r\n\r\n", true, head, consumed, error),
            HeadResult::complete);
  EXPECT_EQ(head.status, 203);
  EXPECT_EQ(parse_script_head("Status: 200\r\n\r\n", true, head, consumed, error),
            HeadResult::malformed);
}

TEST(CgiEnvironment, SearchWordsOnlyWithoutEquals) {
  EXPECT_EQ(search_words("foo+bar%21"), (std::vector<std::string>{"foo", "bar!"}));
  EXPECT_TRUE(search_words("a=b+c").empty());
  EXPECT_TRUE(search_words("").empty());
  EXPECT_EQ(search_words("%zz+%4"), (std::vector<std::string>{"%zz", "%4"}));
}

TEST(CgiEnvironment, GopherSearchesBecomeAFormQuery) {
  Request request;
  request.protocol = "gopher";
  request.query = "two words&more";
  EXPECT_EQ(query_string(request), "two+words%26more");
  request.protocol = "http1";
  request.query = "a=1&b=2";
  EXPECT_EQ(query_string(request), "a=1&b=2");
}

}  // namespace
}  // namespace collage::gateway
