#include <gtest/gtest.h>

#include "collage/menu.h"
#include "gophermap.h"
#include "item_type.h"

namespace collage::gopher {
namespace {

std::string render(std::string_view map, std::string_view prefix = "") {
  MenuContext context{"/dir/", prefix, "example.org", "70"};
  return render_gophermap(map, context, [](const std::set<std::string>& hidden, std::string& out) {
    out += "LISTING";
    for (const auto& h : hidden) {
      out += " -" + h;
    }
    out += "\r\n";
  });
}

TEST(Gophermap, ItemsWithDefaultsAndRelativeSelectors) {
  EXPECT_EQ(render("0Readme\treadme.txt\n"), "0Readme\t/dir/readme.txt\texample.org\t70\r\n");
  EXPECT_EQ(render("1Root\t/\n"), "1Root\t/\texample.org\t70\r\n");
  EXPECT_EQ(render("1Root\t/x\n", "/hole"), "1Root\t/hole/x\texample.org\t70\r\n");
  EXPECT_EQ(render("0Name only\t\n"), "0Name only\t/dir/Name only\texample.org\t70\r\n");
  EXPECT_EQ(render("1Far\t/f\tfar.example\n"), "1Far\t/f\tfar.example\t70\r\n");
  EXPECT_EQ(render("1Far\t/f\tfar.example\t7070\n"), "1Far\t/f\tfar.example\t7070\r\n");
  EXPECT_EQ(render("hWeb\tURL:http://x/\n"), "hWeb\tURL:http://x/\texample.org\t70\r\n");
}

TEST(Gophermap, InfoCommentsAndEnd) {
  EXPECT_EQ(render("hello\r\n# comment\n!Title\n\n.\n0After\tx\n"),
            "ihello\t\tnull.host\t1\r\niTitle\t\tnull.host\t1\r\ni\t\tnull.host\t1\r\n");
  EXPECT_EQ(render("=/bin/date\n:txt=0\n~\n%\n"), "");
}

TEST(Gophermap, NoItemTypeIsText) {
  // A tab first, or a control character as the type: an info line, never a split menu line.
  EXPECT_EQ(render("\tsel\n"), "i sel\t\tnull.host\t1\r\n");
  EXPECT_EQ(render("\rX\tsel\n"), "i X sel\t\tnull.host\t1\r\n");
}

TEST(Gophermap, ListingWithHiddenNames) {
  EXPECT_EQ(render("-secret.txt\n*\nnot shown\n"), "LISTING -gophermap -secret.txt\r\n");
}

TEST(ItemType, ByExtensionAndContent) {
  EXPECT_EQ(item_type_for_name("a.TXT"), '0');
  EXPECT_EQ(item_type_for_name("dir/a.gif"), 'g');
  EXPECT_EQ(item_type_for_name("a.jpeg"), 'I');
  EXPECT_EQ(item_type_for_name("a.htm"), 'h');
  EXPECT_EQ(item_type_for_name("a.mp3"), 's');
  EXPECT_EQ(item_type_for_name("a.pdf"), 'd');
  EXPECT_EQ(item_type_for_name("a.tar"), '9');
  EXPECT_EQ(item_type_for_name("a.webm"), ';');
  EXPECT_EQ(item_type_for_name("README"), '?');
  EXPECT_EQ(item_type_for_name(".profile"), '?');
  EXPECT_EQ(item_type_for_content("plain words\n"), '0');
  EXPECT_EQ(item_type_for_content(std::string_view("a\0b", 3)), '9');
  EXPECT_EQ(item_type_for_content("\x01\x02\x03\x04\x05\x06 text"), '9');
  EXPECT_EQ(media_type_for('I', "x.png"), "image/png");
  EXPECT_EQ(media_type_for('0', "README"), "text/plain");
  EXPECT_EQ(media_type_for('9', "x.zip"), "application/zip");
}

TEST(Menu, LinesAreWellFormedAndParseBack) {
  std::string out;
  append_menu_line({'0', "a\tb", "/s\r\n", "h", "70"}, out);
  EXPECT_EQ(out, "0a b\t/s  \th\t70\r\n");
  append_menu_info("info", out);
  out += ".\r\nignored\r\n";
  const auto items = parse_menu(out);
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].type, '0');
  EXPECT_EQ(items[0].selector, "/s  ");
  EXPECT_EQ(items[1].type, 'i');
  EXPECT_EQ(items[1].display, "info");
  const auto loose = parse_menu("no tab here\n1Dir\t/d\th\t70\n");
  ASSERT_EQ(loose.size(), 2u);
  EXPECT_EQ(loose[0].type, 'i');
  EXPECT_EQ(loose[0].display, "no tab here");
  EXPECT_EQ(loose[1].port, "70");
}

}  // namespace
}  // namespace collage::gopher
