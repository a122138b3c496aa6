#include "collage/file_read.h"

#include <sys/uio.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>

#include "collage/services.h"

namespace collage {
namespace {

std::atomic<std::uint64_t> offloaded{0};

}  // namespace

std::uint64_t offloaded_file_reads() {
  return offloaded.load(std::memory_order_relaxed);
}

Task<ssize_t> read_file_range(Services* services, int fd, char* buffer, std::size_t n,
                              std::uint64_t offset) {
  iovec vector{buffer, n};
  const ssize_t cached = ::preadv2(fd, &vector, 1, static_cast<off_t>(offset), RWF_NOWAIT);
  if (cached == static_cast<ssize_t>(n) || cached == 0 ||
      (cached < 0 && errno != EAGAIN && errno != EOPNOTSUPP)) {
    co_return cached;  // all of it was cached, the end of the file, or a real error
  }
  const std::size_t done = cached > 0 ? static_cast<std::size_t>(cached) : 0;
  if (services == nullptr) {
    const ssize_t rest = ::pread(fd, buffer + done, n - done, static_cast<off_t>(offset + done));
    co_return rest < 0 ? (done > 0 ? static_cast<ssize_t>(done) : rest)
                       : static_cast<ssize_t>(done) + rest;
  }
  // Not (all) in the page cache: the disk would make this thread wait, so another one does.
  offloaded.fetch_add(1, std::memory_order_relaxed);
  auto read_rest = [&] {
    return ::pread(fd, buffer + done, n - done, static_cast<off_t>(offset + done));
  };
  const ssize_t rest = co_await services->offload(read_rest);
  if (rest < 0) {
    co_return done > 0 ? static_cast<ssize_t>(done) : rest;
  }
  co_return static_cast<ssize_t>(done) + rest;
}

Task<bool> read_file_buckets(Services* services, Brigade& part) {
  bool any_file = false;
  for (const Bucket& b : part.buckets()) {
    any_file = any_file || b.kind == Bucket::Kind::file;
  }
  if (!any_file) {
    co_return true;
  }
  Brigade out;
  for (const Bucket& b : part.buckets()) {
    if (b.kind != Bucket::Kind::file) {
      out.append(b);
      continue;
    }
    std::string bytes(static_cast<std::size_t>(b.length), '\0');
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = co_await read_file_range(services, b.file->fd(), bytes.data() + done,
                                                 bytes.size() - done, b.offset + done);
      if (n <= 0) {
        co_return false;
      }
      done += static_cast<std::size_t>(n);
    }
    out.append_owned(std::move(bytes));
  }
  part = std::move(out);
  co_return true;
}

}  // namespace collage
