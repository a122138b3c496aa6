#include "gopher_html_filter.h"

#include <gtest/gtest.h>

namespace collage::gopher_html {
namespace {

TEST(GopherHtml, LinksLocalExternalAndWebItems) {
  const std::string menu =
      "iHello <world>\t\tnull.host\t1\r\n"
      "0Text\t/a b.txt\tlocal\t70\r\n"
      "1Far\t/x\tfar.example\t7070\r\n"
      "hWeb\tURL:https://example.org/?a=1&b=2\tlocal\t70\r\n"
      "hBad\tURL:javascript:alert(1)\tlocal\t70\r\n"
      "3Oops\t\terror.host\t1\r\n";
  const std::string html = render_menu_html(menu, MenuOrigin{"local", "70"}, "/t<itle>");
  EXPECT_NE(html.find("<title>/t&lt;itle&gt;</title>"), std::string::npos);
  EXPECT_NE(html.find("Hello &lt;world&gt;\n"), std::string::npos);
  EXPECT_NE(html.find("[TXT]</span> <a href=\"/a%20b.txt\">Text</a>"), std::string::npos);
  EXPECT_NE(html.find("<a href=\"gopher://far.example:7070/1/x\">Far</a>"), std::string::npos);
  EXPECT_NE(html.find("<a href=\"https://example.org/?a=1&amp;b=2\">Web</a>"), std::string::npos);
  EXPECT_EQ(html.find("javascript"), std::string::npos);
  EXPECT_NE(html.find("[HTM]</span> Bad\n"), std::string::npos);
  EXPECT_NE(html.find("[ERR]</span> Oops"), std::string::npos);
}

TEST(GopherHtml, SamePortElsewhereIsNotLocal) {
  const std::string html =
      render_menu_html("1D\t/d\tlocal\t71\r\n", MenuOrigin{"local", "70"}, "/");
  EXPECT_NE(html.find("gopher://local:71/1/d"), std::string::npos);
}

}  // namespace
}  // namespace collage::gopher_html
