#include "collage/path.h"

#include <gtest/gtest.h>

namespace collage {
namespace {

std::string normalized(std::string_view raw) {
  std::string out;
  EXPECT_EQ(normalize_path(raw, out), PathResult::ok) << raw;
  return out;
}

PathResult result_of(std::string_view raw) {
  std::string out;
  return normalize_path(raw, out);
}

TEST(NormalizePath, KeepsPlainPaths) {
  EXPECT_EQ(normalized("/"), "/");
  EXPECT_EQ(normalized("/a/b.txt"), "/a/b.txt");
  EXPECT_EQ(normalized("/a/b/"), "/a/b/");
}

TEST(NormalizePath, DecodesPercentEscapes) {
  EXPECT_EQ(normalized("/a%20b"), "/a b");
  EXPECT_EQ(normalized("/%41%6a"), "/Aj");
}

TEST(NormalizePath, RemovesDotSegmentsAfterDecoding) {
  EXPECT_EQ(normalized("/a/./b"), "/a/b");
  EXPECT_EQ(normalized("/a/../b"), "/b");
  EXPECT_EQ(normalized("/a/%2e%2e/b"), "/b");
  EXPECT_EQ(normalized("/a/%2E/b"), "/a/b");
  EXPECT_EQ(normalized("/a/b/.."), "/a/");
  EXPECT_EQ(normalized("/a/b/."), "/a/b/");
  EXPECT_EQ(normalized("/a/.."), "/");
  EXPECT_EQ(normalized("/a/b/../../c/"), "/c/");
}

TEST(NormalizePath, FoldsRepeatedSlashes) {
  EXPECT_EQ(normalized("//a///b"), "/a/b");
  EXPECT_EQ(normalized("///"), "/");
}

TEST(NormalizePath, KeepsDotsThatAreNotSegments) {
  EXPECT_EQ(normalized("/a/..b/.c/..."), "/a/..b/.c/...");
}

TEST(NormalizePath, RefusesClimbingAboveRoot) {
  EXPECT_EQ(result_of("/.."), PathResult::above_root);
  EXPECT_EQ(result_of("/a/../../etc/passwd"), PathResult::above_root);
  EXPECT_EQ(result_of("/%2e%2e/etc"), PathResult::above_root);
}

TEST(NormalizePath, AboveRootCanStayAtTheRoot) {
  for (const auto& [raw, expected] : {std::pair<std::string_view, std::string_view>{"/..", "/"},
                                      {"/../..", "/"},
                                      {"/a/../../etc/passwd", "/etc/passwd"},
                                      {"/%2e%2e/etc", "/etc"},
                                      {"/../a/./b/..", "/a/"}}) {
    std::string out;
    EXPECT_EQ(normalize_path(raw, out, AboveRoot::stay), PathResult::ok) << raw;
    EXPECT_EQ(out, expected) << raw;
  }
  std::string out;
  EXPECT_EQ(normalize_path("/../%00", out, AboveRoot::stay), PathResult::nul_byte);
}

TEST(NormalizePath, RefusesDangerousEncodings) {
  EXPECT_EQ(result_of("/a%2fb"), PathResult::encoded_slash);
  EXPECT_EQ(result_of("/a%2Fb"), PathResult::encoded_slash);
  EXPECT_EQ(result_of("/a%00"), PathResult::nul_byte);
  EXPECT_EQ(result_of("/a%"), PathResult::bad_encoding);
  EXPECT_EQ(result_of("/a%4"), PathResult::bad_encoding);
  EXPECT_EQ(result_of("/a%zz"), PathResult::bad_encoding);
  EXPECT_EQ(result_of("a"), PathResult::not_absolute);
  EXPECT_EQ(result_of(""), PathResult::not_absolute);
}

TEST(NormalizePath, HandlesVeryDeepPaths) {
  std::string deep;
  for (int i = 0; i < 200; ++i) {
    deep += "/d";
  }
  std::string up = deep;
  for (int i = 0; i < 199; ++i) {
    up += "/..";
  }
  EXPECT_EQ(normalized(deep).size(), deep.size());
  EXPECT_EQ(normalized(up + "/x"), "/d/x");
}

TEST(UrlEncoding, EncodesUnsafeCharacters) {
  std::string out;
  append_url_encoded_path("/a b/<c>?#%", out);
  EXPECT_EQ(out, "/a%20b/%3Cc%3E%3F%23%25");
}

TEST(HtmlEscaping, EscapesMarkup) {
  std::string out;
  append_html_escaped("<a href=\"x\">&'</a>", out);
  EXPECT_EQ(out, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
}

}  // namespace
}  // namespace collage
