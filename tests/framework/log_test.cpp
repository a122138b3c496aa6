#include "collage/log.h"

#include <gtest/gtest.h>

namespace collage {
namespace {

TEST(Printable, EscapesWhatCouldForgeOrBreakALogLine) {
  EXPECT_EQ(printable("/plain/path.txt"), "/plain/path.txt");
  EXPECT_EQ(printable("a\nb\r\x01\\"), "a\\x0ab\\x0d\\x01\\x5c");
  EXPECT_EQ(printable("caf\xc3\xa9"), "caf\\xc3\\xa9");
}

}  // namespace
}  // namespace collage
