#include "collage/http_date.h"

#include <gtest/gtest.h>

#include <string>

namespace collage {
namespace {

TEST(HttpDate, FormatsImfFixdate) {
  char out[kHttpDateLength];
  format_http_date(784111777, out);
  EXPECT_EQ(std::string(out, kHttpDateLength), "Sun, 06 Nov 1994 08:49:37 GMT");
}

TEST(HttpDate, ParsesAllThreeForms) {
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), 784111777);
}

TEST(HttpDate, RefusesGarbage) {
  EXPECT_FALSE(parse_http_date(""));
  EXPECT_FALSE(parse_http_date("yesterday"));
  EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49:37 UTC"));
  EXPECT_FALSE(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT"));
  EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 25:49:37 GMT"));
}

TEST(HttpDate, RoundTrips) {
  char out[kHttpDateLength];
  for (std::time_t t : {0L, 951782400L, 1700000000L, 4102444800L}) {
    format_http_date(t, out);
    EXPECT_EQ(parse_http_date(std::string_view(out, kHttpDateLength)), t);
  }
}

}  // namespace
}  // namespace collage
