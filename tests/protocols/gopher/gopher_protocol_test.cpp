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

// Regression: raw client bytes (NUL, escapes, CR/LF, high bytes) were echoed into error items.
TEST(ErrorMenu, EchoesOnlyPrintableBytes) {
  for (int byte = 0; byte < 256; ++byte) {
    const std::string selector = std::string("/a") + static_cast<char>(byte) + "b";
    const std::string menu = error_menu(404, selector);
    const std::string_view line(menu.data(), menu.find("\r\n"));
    const std::string_view display = line.substr(1, line.find('\t') - 1);
    for (unsigned char c : display) {
      EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "byte " << byte << " shown raw";
    }
    EXPECT_TRUE(menu.ends_with("\t\terror.host\t1\r\n.\r\n")) << byte;
  }
  EXPECT_LT(error_menu(404, std::string(5000, 'x')).size(), 300u);
}

}  // namespace
}  // namespace collage::gopher_protocol
