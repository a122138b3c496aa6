#include "gopher_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

#include "collage/log.h"
#include "collage/menu.h"
#include "collage/middle_end.h"
#include "collage/safe_open.h"
#include "gophermap.h"
#include "item_type.h"

namespace collage::gopher {
namespace {

constexpr std::string_view kCaps =
    "CAPS\r\n\r\nCapsVersion=1\r\nExpireCapsAfter=3600\r\n\r\nPathDelimeter=/\r\n"
    "PathIdentity=.\r\nPathParent=..\r\nPathParentDouble=FALSE\r\nPathEscapeCharacter=\\\r\n"
    "PathKeepPreDelimeter=FALSE\r\n\r\nServerSoftware=Collage\r\nServerSupportsStdinScripts="
    "FALSE\r\n";

// Reads a small file (a gophermap) whole; false if it cannot be read or is unreasonably large.
bool read_small_file(int fd, std::string& out) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > 4 * 1024 * 1024) {
    return false;
  }
  out.resize(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::pread(fd, out.data() + done, out.size() - done, static_cast<off_t>(done));
    if (n <= 0) {
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

char sniff_type(int directory_fd, const char* name) {
  const int fd = ::openat(directory_fd, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    return '9';
  }
  char sample[512];
  const ssize_t n = ::pread(fd, sample, sizeof sample, 0);
  ::close(fd);
  return item_type_for_content(std::string_view(sample, n > 0 ? static_cast<std::size_t>(n) : 0));
}

struct Entry {
  std::string name;
  char type;
};

}  // namespace

GopherStore::GopherStore(GopherStoreConfig config, int root_fd)
    : config_(std::move(config)), root_fd_(root_fd) {}

GopherStore::~GopherStore() {
  ::close(root_fd_);
}

std::string GopherStore::directory_menu(const RequestContext& ctx, int directory_fd,
                                        std::string_view directory_selector) const {
  const MenuOrigin origin = menu_origin(ctx);
  const std::string& prefix = ctx.location.prefix;
  const MenuContext context{directory_selector, prefix == "/" ? std::string_view() : prefix,
                            origin.host, origin.port};

  auto write_listing = [&](const std::set<std::string>& hidden, std::string& out) {
    std::vector<Entry> entries;
    const int dup_fd = ::openat(directory_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR* dir = dup_fd >= 0 ? ::fdopendir(dup_fd) : nullptr;
    if (dir == nullptr) {
      if (dup_fd >= 0) {
        ::close(dup_fd);
      }
      return;
    }
    while (const dirent* d = ::readdir(dir)) {
      const std::string name = d->d_name;
      if (name.empty() || name[0] == '.' || hidden.contains(name) || name == "gophertag") {
        continue;
      }
      struct stat st {};
      if (::fstatat(::dirfd(dir), d->d_name, &st, 0) != 0) {
        continue;
      }
      char type = '?';
      if (S_ISDIR(st.st_mode)) {
        type = '1';
      } else if (S_ISREG(st.st_mode)) {
        type = item_type_for_name(name);
        if (type == '?') {
          type = sniff_type(::dirfd(dir), d->d_name);
        }
      } else {
        continue;
      }
      entries.push_back(Entry{name, type});
    }
    ::closedir(dir);
    std::sort(entries.begin(), entries.end(),
              [](const Entry& a, const Entry& b) { return a.name < b.name; });
    for (const Entry& e : entries) {
      MenuItem item;
      item.type = e.type;
      item.display = e.name;
      item.selector = std::string(directory_selector) + e.name + (e.type == '1' ? "/" : "");
      item.host = origin.host;
      item.port = origin.port;
      append_menu_line(item, out);
    }
  };

  const int map_fd = ::openat(directory_fd, "gophermap", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (map_fd >= 0) {
    std::string map_text;
    const bool ok = read_small_file(map_fd, map_text);
    ::close(map_fd);
    if (ok) {
      return render_gophermap(map_text, context, write_listing);
    }
  }
  std::string menu;
  write_listing({}, menu);
  return menu;
}

Task<void> GopherStore::handle(RequestContext& ctx, Entity& out) const {
  const Request& request = ctx.request;
  // Alias semantics: what follows the location prefix is the path inside the hole.
  std::string_view inside = request.path;
  const std::string& prefix = ctx.location.prefix;
  if (prefix != "/") {
    inside.remove_prefix(std::min(prefix.size(), inside.size()));
  }
  while (!inside.empty() && inside.front() == '/') {
    inside.remove_prefix(1);
  }
  std::string relative(inside);
  while (!relative.empty() && relative.back() == '/') {
    relative.pop_back();
  }
  const std::string selector_base = prefix == "/" ? "" : prefix;

  const int fd = open_beneath(root_fd_, relative.empty() ? "." : relative.c_str(),
                              O_RDONLY | O_NONBLOCK | O_CLOEXEC, /*follow_outside=*/false);
  if (fd < 0) {
    const int err = errno;
    if (relative == "caps.txt" && err == ENOENT) {
      out.status = 200;
      out.content_type = "text/plain";
      out.length = kCaps.size();
      out.body.append_static(kCaps);
      co_return;
    }
    if (err == EXDEV || err == ELOOP) {
      COLLAGE_LOG(LogLevel::warn, "COL-GOPHER-0101", "{}: refused {}: it leads outside {}",
                  request.peer ? request.peer->address : "-", printable(request.path),
                  config_.root);
    }
    out.set_error(status_for_file_error(err));
    co_return;
  }
  FileHandle handle(fd);  // closes fd unless a bucket takes over below
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    out.set_error(500);
    co_return;
  }
  if (S_ISDIR(st.st_mode)) {
    const std::string directory_selector =
        selector_base + "/" + relative + (relative.empty() ? "" : "/");
    auto build = [&] { return directory_menu(ctx, fd, directory_selector); };
    std::string menu = co_await ctx.services.offload(build);
    out.status = 200;
    out.set_body(std::move(menu), kMenuContentType);
    co_return;
  }
  if (!S_ISREG(st.st_mode)) {
    out.set_error(403);
    co_return;
  }
  if (!request.query.empty()) {
    // A search (type 7) on a file would need a script, and scripts are never run here.
    out.set_error(501);
    co_return;
  }
  char type = item_type_for_name(relative);
  if (type == '?') {
    char sample[512];
    const ssize_t n = ::pread(fd, sample, sizeof sample, 0);
    type = item_type_for_content(std::string_view(sample, n > 0 ? static_cast<std::size_t>(n) : 0));
  }
  out.status = 200;
  out.content_type = media_type_for(type, relative);
  out.length = static_cast<std::uint64_t>(st.st_size);
  out.last_modified = st.st_mtim.tv_sec;
  out.body.append_file(std::make_shared<const FileHandle>(::dup(fd)), 0,
                       static_cast<std::uint64_t>(st.st_size));
}

}  // namespace collage::gopher
