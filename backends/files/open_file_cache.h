#pragma once
// Files kept open between requests, like nginx's open_file_cache: a hit skips openat2, fstat and
// close. One cache per thread (no locks); entries are trusted for OpenFileCacheValid, and every
// write through a file store in any child of the server (PUT, DELETE, rename, FTP uploads)
// empties them all at once. Changes made behind the server's back show after at most that long.

#include <sys/stat.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "collage/brigade.h"

namespace collage::files {

struct OpenFile {
  std::shared_ptr<const FileHandle> file;
  struct stat st {};
};

// The cached file for (store, relative path) if still valid; null otherwise.
const OpenFile* cached_open_file(const void* store, std::string_view relative,
                                 std::chrono::milliseconds valid);
void cache_open_file(const void* store, std::string_view relative, OpenFile file);
// Called by every write through a files store: what is cached may be stale now.
void invalidate_open_files();

}  // namespace collage::files
