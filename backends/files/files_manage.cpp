// Listing, directory creation, renaming and resumed writes: what FTP asks of the file store on
// top of reading and writing whole files.

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "collage/listing.h"
#include "collage/log.h"
#include "collage/middle_end.h"
#include "collage/safe_open.h"
#include "files_store.h"

namespace collage::files {
namespace {

void split(const std::string& relative, std::string& parent, std::string& name) {
  const std::size_t slash = relative.rfind('/');
  parent = slash == std::string::npos ? "." : relative.substr(0, slash);
  name = slash == std::string::npos ? relative : relative.substr(slash + 1);
}

ListingEntry entry_for(std::string name, const struct stat& st) {
  ListingEntry e;
  e.name = std::move(name);
  e.directory = S_ISDIR(st.st_mode);
  e.size = static_cast<std::uint64_t>(st.st_size);
  e.modified = st.st_mtime;
  e.mode = st.st_mode & 07777;
  return e;
}

std::string list_directory(int directory_fd) {
  std::vector<ListingEntry> entries;
  if (DIR* dir = ::fdopendir(directory_fd)) {
    while (const dirent* d = ::readdir(dir)) {
      if (d->d_name[0] == '.') {
        continue;  // hidden files and our upload temporaries
      }
      struct stat st {};
      if (::fstatat(::dirfd(dir), d->d_name, &st, 0) == 0 &&
          (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode))) {
        entries.push_back(entry_for(d->d_name, st));
      }
    }
    ::closedir(dir);
  } else {
    ::close(directory_fd);
  }
  std::sort(entries.begin(), entries.end(),
            [](const ListingEntry& a, const ListingEntry& b) { return a.name < b.name; });
  std::string text;
  for (const ListingEntry& e : entries) {
    append_listing_entry(e, text);
  }
  return text;
}

}  // namespace

int copy_prefix(int directory_fd, const std::string& name, std::uint64_t length, int to_fd) {
  if (length == 0) {
    return 0;
  }
  const int from = ::openat(directory_fd, name.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (from < 0) {
    return 409;
  }
  struct stat st {};
  if (::fstat(from, &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<std::uint64_t>(st.st_size) < length) {
    ::close(from);
    return 409;
  }
  std::uint64_t left = length;
  while (left > 0) {
    const ssize_t n =
        ::copy_file_range(from, nullptr, to_fd, nullptr,
                          static_cast<std::size_t>(std::min<std::uint64_t>(left, 1 << 30)), 0);
    if (n <= 0) {
      ::close(from);
      return 500;
    }
    left -= static_cast<std::uint64_t>(n);
  }
  ::close(from);
  return 0;
}

Task<void> FilesStore::list(RequestContext& ctx, Entity& out) const {
  const std::string relative = relative_path(ctx, ctx.request.path);
  const int fd = open(relative, O_RDONLY | O_NONBLOCK);
  if (fd < 0) {
    out.set_error(status_for_file_error(errno));
    co_return;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    out.set_error(500);
    co_return;
  }
  std::string text;
  if (S_ISDIR(st.st_mode)) {
    auto read_directory = [fd] { return list_directory(fd); };
    text = co_await ctx.services.offload(read_directory);
  } else {
    ::close(fd);
    if (!S_ISREG(st.st_mode)) {
      out.set_error(403);
      co_return;
    }
    const std::size_t slash = relative.rfind('/');
    append_listing_entry(
        entry_for(slash == std::string::npos ? relative : relative.substr(slash + 1), st), text);
  }
  out.status = 200;
  out.set_body(std::move(text), S_ISDIR(st.st_mode) ? kListingContentType : kFileEntryContentType);
}

void FilesStore::make_directory(RequestContext& ctx, Entity& out) const {
  const std::string relative = relative_path(ctx, ctx.request.path);
  std::string parent, name;
  split(relative, parent, name);
  const int directory = open(parent, O_PATH | O_DIRECTORY);
  if (relative == "." || directory < 0) {
    out.set_error(relative == "." ? 409 : status_for_file_error(errno));
    if (directory >= 0) {
      ::close(directory);
    }
    return;
  }
  const int rc = ::mkdirat(directory, name.c_str(), 0755);
  const int err = errno;
  ::close(directory);
  if (rc != 0) {
    out.set_error(status_for_file_error(err));
    return;
  }
  COLLAGE_LOG(LogLevel::info, "COL-FILES-0008", "created directory {}",
              printable(ctx.request.path));
  out.reset();
  out.status = 201;
}

void FilesStore::rename(RequestContext& ctx, Entity& out) const {
  const std::string from = relative_path(ctx, ctx.request.path);
  const std::string to = relative_path(ctx, ctx.request.destination);
  if (from == "." || to == "." || ctx.request.destination.empty()) {
    out.set_error(403);
    return;
  }
  std::string from_parent, from_name, to_parent, to_name;
  split(from, from_parent, from_name);
  split(to, to_parent, to_name);
  const int from_dir = open(from_parent, O_PATH | O_DIRECTORY);
  const int to_dir = open(to_parent, O_PATH | O_DIRECTORY);
  int status = 0;
  if (from_dir < 0 || to_dir < 0) {
    status = 404;
  } else if (to_name.starts_with(".collage-tmp-")) {
    status = 403;
  } else if (::renameat(from_dir, from_name.c_str(), to_dir, to_name.c_str()) != 0) {
    status = status_for_file_error(errno);
  }
  if (from_dir >= 0) {
    ::close(from_dir);
  }
  if (to_dir >= 0) {
    ::close(to_dir);
  }
  if (status != 0) {
    out.set_error(status);
    return;
  }
  COLLAGE_LOG(LogLevel::info, "COL-FILES-0009", "renamed {} to {}", printable(ctx.request.path),
              printable(ctx.request.destination));
  out.reset();
  out.status = 204;
}

}  // namespace collage::files
