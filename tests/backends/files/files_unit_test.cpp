#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "files_store.h"
#include "mime_types.h"
#include "safe_open.h"

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

class SafeOpen : public ::testing::Test {
 protected:
  void SetUp() override {
    base = fs::temp_directory_path() / ("collage-safe-open-" + std::to_string(::getpid()));
    fs::remove_all(base);
    fs::create_directories(base / "root" / "sub");
    std::ofstream(base / "secret") << "secret";
    std::ofstream(base / "root" / "sub" / "file") << "file";
    fs::create_symlink(base / "secret", base / "root" / "out-link");
    fs::create_symlink("sub/file", base / "root" / "in-link");
    fs::create_symlink("../secret", base / "root" / "relative-out");
    root_fd = ::open((base / "root").c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    ASSERT_GE(root_fd, 0);
  }
  void TearDown() override {
    ::close(root_fd);
    fs::remove_all(base);
  }
  // Returns 0 on success, else errno.
  int open_error(const char* path, bool follow_outside = false) {
    const int fd = open_beneath(root_fd, path, O_RDONLY, follow_outside);
    if (fd < 0) {
      return errno;
    }
    ::close(fd);
    return 0;
  }
  fs::path base;
  int root_fd = -1;
};

TEST_F(SafeOpen, OpensInsideTheRoot) {
  EXPECT_EQ(open_error("sub/file"), 0);
  EXPECT_EQ(open_error("in-link"), 0);
  EXPECT_EQ(open_error("."), 0);
}

TEST_F(SafeOpen, RefusesEveryWayOut) {
  EXPECT_EQ(open_error("../secret"), EXDEV);
  EXPECT_EQ(open_error("sub/../../secret"), EXDEV);
  EXPECT_EQ(open_error("out-link"), EXDEV);
  EXPECT_EQ(open_error("relative-out"), EXDEV);
  EXPECT_EQ(open_error("/etc/passwd"), EXDEV);
}

TEST_F(SafeOpen, FollowsOutwardLinksOnlyWhenAllowed) {
  EXPECT_EQ(open_error("out-link", /*follow_outside=*/true), 0);
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
