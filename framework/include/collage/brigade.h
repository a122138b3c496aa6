#pragma once
// Bodies travel as brigades: ordered buckets of memory slices and file ranges. A front end writes
// memory buckets with gathered writes and file buckets with sendfile, so file contents never pass
// through user space. Buckets share ownership of what they point at, so slicing is free.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace collage {

// An open file descriptor, closed when the last bucket that refers to it goes away.
class FileHandle {
 public:
  explicit FileHandle(int fd) : fd_(fd) {}
  ~FileHandle();
  FileHandle(const FileHandle&) = delete;
  FileHandle& operator=(const FileHandle&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_;
};

struct Bucket {
  enum class Kind : std::uint8_t { memory, file };

  Kind kind = Kind::memory;
  std::string_view bytes;              // kind == memory
  std::shared_ptr<const void> keeper;  // keeps bytes or the file alive; null for static data
  const FileHandle* file = nullptr;    // kind == file
  std::uint64_t offset = 0;            // kind == file
  std::uint64_t length = 0;            // kind == file

  std::uint64_t size() const { return kind == Kind::memory ? bytes.size() : length; }
};

class Brigade {
 public:
  // Data that lives for the whole process (string literals, static tables).
  void append_static(std::string_view bytes);
  // Takes ownership of text.
  void append_owned(std::string text);
  void append_file(std::shared_ptr<const FileHandle> file, std::uint64_t offset,
                   std::uint64_t length);
  void append(const Bucket& bucket) { buckets_.push_back(bucket); }

  // The bytes [offset, offset + length) of this brigade as a new brigade sharing the buckets.
  // (Not `for (b : x.slice(…).buckets())`: the temporary dies before the loop runs.)
  Brigade slice(std::uint64_t offset, std::uint64_t length) const;
  // Appends the bytes [offset, offset + length) of source, sharing its buckets.
  void append_range(const Brigade& source, std::uint64_t offset, std::uint64_t length);

  std::uint64_t size() const;
  // The whole body as one string, file ranges read in (for small generated bodies a consumer
  // parses: listings, menus); false if a file could not be read.
  bool copy_to(std::string& out) const;
  // The same, appended to what `out` holds already.
  bool append_to(std::string& out) const;
  bool empty() const { return buckets_.empty(); }
  void clear() { buckets_.clear(); }
  const std::vector<Bucket>& buckets() const { return buckets_; }

 private:
  std::vector<Bucket> buckets_;
};

}  // namespace collage
