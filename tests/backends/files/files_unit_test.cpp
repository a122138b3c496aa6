#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "files_store.h"
#include "mime_types.h"

namespace collage::files {
namespace {

namespace fs = std::filesystem;

TEST(MimeTypes, ReadsDebianTableAndOverrides) {
  MimeTypes types;
  ASSERT_TRUE(types.load_file("/etc/mime.types"));
  EXPECT_EQ(types.lookup("index.html"), "text/html");
  EXPECT_EQ(types.lookup("/a/b/photo.JPG"), "image/jpeg");
  EXPECT_EQ(types.lookup("archive.tar.gz"), "application/gzip");
  EXPECT_EQ(types.lookup("no-extension"), "application/octet-stream");
  EXPECT_EQ(types.lookup("trailing."), "application/octet-stream");
  EXPECT_EQ(types.lookup("dir.d/file"), "application/octet-stream");
  types.add(".md", "text/markdown");
  types.set_default("text/plain");
  EXPECT_EQ(types.lookup("README.MD"), "text/markdown");
  EXPECT_EQ(types.lookup("unknown.zzz"), "text/plain");
  EXPECT_FALSE(types.load_file("/nonexistent/mime.types"));
}

TEST(Etag, ChangesWithEveryValidatorPart) {
  const std::string base = make_etag(1, 2, 3, 4);
  EXPECT_EQ(base.front(), '"');
  EXPECT_EQ(base.back(), '"');
  EXPECT_NE(base, make_etag(9, 2, 3, 4));
  EXPECT_NE(base, make_etag(1, 9, 3, 4));
  EXPECT_NE(base, make_etag(1, 2, 9, 4));
  EXPECT_NE(base, make_etag(1, 2, 3, 9));
}

}  // namespace
}  // namespace collage::files
