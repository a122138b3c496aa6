#include "collage/conditional.h"

#include <gtest/gtest.h>

namespace collage {
namespace {

class Preconditions : public ::testing::Test {
 protected:
  Preconditions() {
    validators.etag = "\"abc\"";
    validators.last_modified = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
  }
  int evaluate(Method method, std::string_view name, std::string_view value, bool exists = true) {
    request.method = method;
    request.headers.clear();
    request.headers.add(name, value);
    return evaluate_preconditions(request, validators, exists);
  }
  Request request;
  Entity validators;
};

TEST_F(Preconditions, IfNoneMatchGivesNotModifiedForReads) {
  EXPECT_EQ(evaluate(Method::get, "If-None-Match", "\"abc\""), 304);
  EXPECT_EQ(evaluate(Method::head, "If-None-Match", "\"x\", W/\"abc\""), 304);
  EXPECT_EQ(evaluate(Method::get, "If-None-Match", "\"x\""), 0);
  EXPECT_EQ(evaluate(Method::get, "If-None-Match", "*"), 304);
}

TEST_F(Preconditions, IfNoneMatchFailsWritesWith412) {
  EXPECT_EQ(evaluate(Method::put, "If-None-Match", "*"), 412);
  EXPECT_EQ(evaluate(Method::put, "If-None-Match", "*", /*exists=*/false), 0);
}

TEST_F(Preconditions, IfMatchUsesStrongComparison) {
  EXPECT_EQ(evaluate(Method::get, "If-Match", "\"abc\""), 0);
  EXPECT_EQ(evaluate(Method::get, "If-Match", "W/\"abc\""), 412);
  EXPECT_EQ(evaluate(Method::put, "If-Match", "*", /*exists=*/false), 412);
  EXPECT_EQ(evaluate(Method::put, "If-Match", "*"), 0);
}

TEST_F(Preconditions, DatesCompareBySecond) {
  EXPECT_EQ(evaluate(Method::get, "If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"), 304);
  EXPECT_EQ(evaluate(Method::get, "If-Modified-Since", "Sun, 06 Nov 1994 08:49:36 GMT"), 0);
  EXPECT_EQ(evaluate(Method::get, "If-Modified-Since", "not a date"), 0);
  EXPECT_EQ(evaluate(Method::put, "If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"), 0);
  EXPECT_EQ(evaluate(Method::get, "If-Unmodified-Since", "Sun, 06 Nov 1994 08:49:36 GMT"), 412);
  EXPECT_EQ(evaluate(Method::get, "If-Unmodified-Since", "Sun, 06 Nov 1994 08:49:37 GMT"), 0);
}

TEST_F(Preconditions, IfNoneMatchWinsOverIfModifiedSince) {
  request.method = Method::get;
  request.headers.clear();
  request.headers.add("If-None-Match", "\"other\"");
  request.headers.add("If-Modified-Since", "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(evaluate_preconditions(request, validators, true), 0);
}

TEST(EtagList, HandlesCommasInsideTags) {
  EXPECT_TRUE(etag_list_matches("\"a,b\", \"c\"", "\"c\"", true));
  EXPECT_TRUE(etag_list_matches("\"a,b\"", "\"a,b\"", true));
  EXPECT_FALSE(etag_list_matches("\"a\"", "", false));
  EXPECT_FALSE(etag_list_matches("garbage", "\"a\"", false));
}

}  // namespace
}  // namespace collage
