// Brigades: memory and file buckets, slices, and copying a whole body out.

#include "collage/brigade.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

namespace collage {
namespace {

std::shared_ptr<const FileHandle> temp_file(std::string_view contents) {
  char name[] = "/tmp/collage-brigade-XXXXXX";
  const int fd = ::mkstemp(name);
  ::unlink(name);
  EXPECT_EQ(::write(fd, contents.data(), contents.size()), static_cast<ssize_t>(contents.size()));
  return std::make_shared<const FileHandle>(fd);
}

TEST(Brigade, CopyToReadsMemoryAndFileBucketsInOrder) {
  Brigade b;
  b.append_static("head|");
  b.append_file(temp_file("0123456789"), 2, 5);  // "23456"
  b.append_owned("|tail");
  std::string out = "old contents";
  ASSERT_TRUE(b.copy_to(out));
  EXPECT_EQ(out, "head|23456|tail");
}

TEST(Brigade, CopyToSaysWhenAFileRangeIsGone) {
  Brigade b;
  b.append_file(temp_file("short"), 0, 100);  // the file is shorter than the bucket says
  std::string out;
  EXPECT_FALSE(b.copy_to(out));
}

TEST(Brigade, SliceOfACopyEqualsCopyOfASlice) {
  Brigade b;
  b.append_static("abc");
  b.append_file(temp_file("defgh"), 0, 5);
  b.append_static("ij");
  std::string whole;
  ASSERT_TRUE(b.copy_to(whole));
  for (std::uint64_t offset = 0; offset <= whole.size(); ++offset) {
    for (std::uint64_t length = 0; offset + length <= whole.size(); ++length) {
      std::string part;
      ASSERT_TRUE(b.slice(offset, length).copy_to(part));
      EXPECT_EQ(part, whole.substr(offset, length)) << offset << "+" << length;
    }
  }
}

}  // namespace
}  // namespace collage
