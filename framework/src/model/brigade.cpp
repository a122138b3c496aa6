#include "collage/brigade.h"

#include <unistd.h>

#include <algorithm>

namespace collage {

FileHandle::~FileHandle() {
  if (fd_ >= 0) {
    ::close(fd_);
  }
}

void Brigade::append_static(std::string_view bytes) {
  if (bytes.empty()) {
    return;
  }
  Bucket b;
  b.kind = Bucket::Kind::memory;
  b.bytes = bytes;
  buckets_.push_back(std::move(b));
}

void Brigade::append_owned(std::string text) {
  if (text.empty()) {
    return;
  }
  auto owner = std::make_shared<const std::string>(std::move(text));
  Bucket b;
  b.kind = Bucket::Kind::memory;
  b.bytes = *owner;
  b.keeper = std::move(owner);
  buckets_.push_back(std::move(b));
}

void Brigade::append_file(std::shared_ptr<const FileHandle> file, std::uint64_t offset,
                          std::uint64_t length) {
  if (length == 0) {
    return;
  }
  Bucket b;
  b.kind = Bucket::Kind::file;
  b.file = file.get();
  b.keeper = std::move(file);
  b.offset = offset;
  b.length = length;
  buckets_.push_back(std::move(b));
}

Brigade Brigade::slice(std::uint64_t offset, std::uint64_t length) const {
  Brigade out;
  out.append_range(*this, offset, length);
  return out;
}

void Brigade::append_range(const Brigade& source, std::uint64_t offset, std::uint64_t length) {
  std::uint64_t position = 0;
  for (const Bucket& b : source.buckets_) {
    if (length == 0) {
      break;
    }
    const std::uint64_t size = b.size();
    if (position + size <= offset) {
      position += size;
      continue;
    }
    const std::uint64_t skip = offset > position ? offset - position : 0;
    const std::uint64_t take = std::min(size - skip, length);
    Bucket piece = b;
    if (b.kind == Bucket::Kind::memory) {
      piece.bytes = b.bytes.substr(skip, take);
    } else {
      piece.offset = b.offset + skip;
      piece.length = take;
    }
    buckets_.push_back(std::move(piece));
    length -= take;
    offset += take;
    position += size;
  }
}

std::uint64_t Brigade::size() const {
  std::uint64_t total = 0;
  for (const Bucket& b : buckets_) {
    total += b.size();
  }
  return total;
}

bool Brigade::copy_to(std::string& out) const {
  out.clear();
  return append_to(out);
}

bool Brigade::append_to(std::string& out) const {
  for (const Bucket& b : buckets_) {
    if (b.kind == Bucket::Kind::memory) {
      out += b.bytes;
      continue;
    }
    const std::size_t at = out.size();
    out.resize(at + b.length);
    std::size_t done = 0;
    while (done < b.length) {
      const ssize_t n = ::pread(b.file->fd(), out.data() + at + done, b.length - done,
                                static_cast<off_t>(b.offset + done));
      if (n <= 0) {
        return false;
      }
      done += static_cast<std::size_t>(n);
    }
  }
  return true;
}

}  // namespace collage
