// Reading file ranges without stalling the event thread: cached data in place, the rest on the
// blocking pool; whole ranges either way.

#include "collage/file_read.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/uio.h>
#include <unistd.h>

#include <asio/thread_pool.hpp>
#include <string>

#include "collage/services.h"

namespace collage {
namespace {

class FileReadTest : public ::testing::Test {
 protected:
  FileReadTest() {
    char name[] = "/var/tmp/collage-file-read-XXXXXX";  // a disk, not tmpfs, when there is one
    fd = ::mkstemp(name);
    ::unlink(name);
    content.resize(3 * 1024 * 1024);
    for (std::size_t i = 0; i < content.size(); ++i) {
      content[i] = static_cast<char>('a' + i % 26);
    }
    EXPECT_EQ(::pwrite(fd, content.data(), content.size(), 0),
              static_cast<ssize_t>(content.size()));
  }
  ~FileReadTest() override { ::close(fd); }

  std::string read(Services* services, std::size_t n, std::uint64_t offset) {
    std::string out(n, '\0');
    ssize_t got = -2;
    asio::co_spawn(
        io,
        [&]() -> Task<void> {
          got = co_await read_file_range(services, fd, out.data(), n, offset);
        },
        asio::detached);
    io.restart();
    io.run();
    out.resize(got < 0 ? 0 : static_cast<std::size_t>(got));
    return out;
  }

  asio::io_context io;
  asio::thread_pool pool{1};
  ConnectionTracker tracker;
  Services services{pool.get_executor(), tracker};
  int fd = -1;
  std::string content;
};

TEST_F(FileReadTest, CachedRangesAreReadInPlace) {
  const std::uint64_t before = offloaded_file_reads();
  EXPECT_EQ(read(&services, 1000, 5), content.substr(5, 1000));
  EXPECT_EQ(read(nullptr, 1000, content.size() - 10), content.substr(content.size() - 10));
  EXPECT_EQ(read(&services, 10, content.size()), "");  // the end of the file
  EXPECT_EQ(offloaded_file_reads(), before);           // just written: all in the page cache
}

TEST_F(FileReadTest, UncachedRangesGoToTheBlockingPool) {
  ASSERT_EQ(::fdatasync(fd), 0);
  ASSERT_EQ(::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
  char probe[4096];
  iovec vector{probe, sizeof probe};
  if (::preadv2(fd, &vector, 1, 2 * 1024 * 1024, RWF_NOWAIT) >= 0) {
    GTEST_SKIP() << "this file system keeps the pages cached (tmpfs?): nothing to offload";
  }
  // The probe (or the kernel's readahead) may bring the pages back before the read: evict and
  // read again a few times; one of them must find the pages gone and go to the pool.
  bool offloaded = false;
  for (int attempt = 0; attempt < 5 && !offloaded; ++attempt) {
    ASSERT_EQ(::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED), 0);
    const std::uint64_t before = offloaded_file_reads();
    EXPECT_EQ(read(&services, 64 * 1024, 2 * 1024 * 1024), content.substr(2 * 1024 * 1024, 65536));
    offloaded = offloaded_file_reads() > before;
  }
  EXPECT_TRUE(offloaded) << "five reads of evicted pages, none went to the blocking pool";
}

}  // namespace
}  // namespace collage
