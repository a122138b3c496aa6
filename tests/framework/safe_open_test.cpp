#include "collage/safe_open.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <fstream>

namespace collage {
namespace {

namespace fs = std::filesystem;

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

}  // namespace
}  // namespace collage
