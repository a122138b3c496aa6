#include <gtest/gtest.h>

#include "gopher_connection.h"

namespace collage::gopher_protocol {
namespace {

TEST(SelectorLine, SplitsSearchAndDropsGopherPlus) {
  std::string_view selector;
  std::string_view search;
  split_selector_line("/find\tcats and dogs", selector, search);
  EXPECT_EQ(selector, "/find");
  EXPECT_EQ(search, "cats and dogs");
  split_selector_line("/file\t$", selector, search);
  EXPECT_EQ(search, "");
  split_selector_line("/q\twords\t+", selector, search);
  EXPECT_EQ(search, "words");
  split_selector_line("", selector, search);
  EXPECT_EQ(selector, "");
}

TEST(TextItem, CrlfDotStuffingAndTerminator) {
  std::string out;
  bool at_line_start = true;
  append_text_item(".a\nb\r\n", at_line_start, out);
  append_text_item("..c", at_line_start, out);
  append_text_item("\n.", at_line_start, out);
  finish_text_item(at_line_start, out);
  EXPECT_EQ(out, "..a\r\nb\r\n...c\r\n..\r\n.\r\n");
  std::string empty;
  bool start = true;
  finish_text_item(start, empty);
  EXPECT_EQ(empty, ".\r\n");
}

TEST(ErrorMenu, IsATypeThreeItemAndEnds) {
  EXPECT_EQ(error_menu(404, "/x"), "3Not Found: /x\t\terror.host\t1\r\n.\r\n");
}

}  // namespace
}  // namespace collage::gopher_protocol
