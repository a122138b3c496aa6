#include "files_store.h"
#include "open_file_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <random>

#include "collage/conditional.h"
#include "collage/generation.h"
#include "collage/log.h"
#include "collage/middle_end.h"
#include "collage/path.h"
#include "collage/safe_open.h"

namespace collage::files {
namespace {

constexpr std::string_view kTempPrefix = ".collage-tmp-";

}  // namespace

std::string relative_of(std::string_view path) {
  while (!path.empty() && path.front() == '/') {
    path.remove_prefix(1);
  }
  while (!path.empty() && path.back() == '/') {
    path.remove_suffix(1);
  }
  return path.empty() ? std::string(".") : std::string(path);
}

namespace {

bool is_temp_name(std::string_view path) {
  const std::size_t slash = path.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  return name.starts_with(kTempPrefix);
}

// Removes an upload's temporary file unless it was committed, even if the coroutine is destroyed.
class TempFile {
 public:
  TempFile(int directory_fd, std::string name, int fd)
      : directory_fd_(directory_fd), name_(std::move(name)), fd_(fd) {}
  ~TempFile() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    if (!committed_) {
      ::unlinkat(directory_fd_, name_.c_str(), 0);
    }
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  int fd() const { return fd_; }
  const std::string& name() const { return name_; }
  bool close_file() {
    const int rc = ::close(fd_);
    fd_ = -1;
    return rc == 0;
  }
  void commit() { committed_ = true; }

 private:
  int directory_fd_;
  std::string name_;
  int fd_;
  bool committed_ = false;
};

class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  ~FdGuard() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string random_suffix() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return fmt::format("{:016x}", generator());
}

bool write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

void set_validators(const struct stat& st, Entity& out) {
  out.etag = make_etag(st.st_ino, static_cast<unsigned long long>(st.st_size), st.st_mtim.tv_sec,
                       st.st_mtim.tv_nsec);
  out.last_modified = st.st_mtim.tv_sec;
}

}  // namespace

std::string make_etag(unsigned long long inode, unsigned long long size, long long mtime_sec,
                      long mtime_nsec) {
  return fmt::format("\"{:x}-{:x}-{:x}.{:x}\"", inode, size, mtime_sec, mtime_nsec);
}

FilesStore::FilesStore(FilesConfig config, int root_fd)
    : config_(std::move(config)), root_fd_(root_fd) {}

FilesStore::~FilesStore() {
  ::close(root_fd_);
}

MethodSet FilesStore::methods() const {
  MethodSet methods{Method::get, Method::head, Method::list};
  if (config_.writable) {
    methods.add(Method::put);
    methods.add(Method::del);
    methods.add(Method::mkdir);
    methods.add(Method::rename);
  }
  return methods;
}

int FilesStore::open(std::string_view relative, int flags) const {
  thread_local std::string path;
  path.assign(relative);
  return open_beneath(root_fd_, path.c_str(), flags | O_CLOEXEC, config_.symlinks_outside_root);
}

Task<void> FilesStore::handle(RequestContext& ctx, Entity& out) const {
  if (is_temp_name(ctx.request.path)) {
    out.set_error(404);
    co_return;
  }
  switch (ctx.request.method) {
    case Method::put: co_await put(ctx, out); break;
    case Method::del: remove(ctx, out); break;
    case Method::list: co_await list(ctx, out); co_return;
    case Method::mkdir: make_directory(ctx, out); break;
    case Method::rename: rename(ctx, out); break;
    default: co_await get(ctx, out); co_return;
  }
  // After the change is in place: a file opened before it may be stale now.
  invalidate_open_files();
}

std::string FilesStore::relative_path(const Location& location, std::string_view path) const {
  const std::string_view prefix = location.prefix;
  if (config_.alias && prefix != "/" && path.starts_with(prefix) &&
      (path.size() == prefix.size() || path[prefix.size()] == '/')) {
    path.remove_prefix(prefix.size());
  }
  return relative_of(path);
}

std::string FilesStore::relative_path(const RequestContext& ctx, std::string_view path) const {
  return relative_path(ctx.location, path);
}

std::string FilesStore::file_path(const Location& location, std::string_view path) const {
  std::string relative = relative_path(location, path);
  return relative == "." ? config_.document_root : config_.document_root + "/" + relative;
}

PathKind FilesStore::path_kind(const Location& location, std::string_view path) const {
  const std::string relative = relative_path(location, path);
  if (is_temp_name(path)) {
    return PathKind::none;  // an upload in progress is not there yet
  }
  const int fd = open(relative, O_PATH);
  if (fd < 0) {
    return PathKind::none;
  }
  struct stat st {};
  const int rc = ::fstat(fd, &st);
  ::close(fd);
  if (rc != 0) {
    return PathKind::none;
  }
  return S_ISDIR(st.st_mode) ? PathKind::directory
                             : (S_ISREG(st.st_mode) ? PathKind::file : PathKind::none);
}

std::string FilesStore::resource_key(const RequestContext& ctx) const {
  // The file's place on disk: every URL, account and protocol that reaches it shares its entry.
  return "file:" + config_.document_root + "/" + relative_path(ctx, ctx.request.path);
}

void FilesStore::serve_file(const Request& /*request*/, std::shared_ptr<const FileHandle> file,
                            const struct stat& st, std::string_view name, Entity& out) const {
  if (!S_ISREG(st.st_mode)) {
    out.set_error(403);
    return;
  }
  // If-* for GET and HEAD are the pipeline's, against the head as it is finally sent.
  set_validators(st, out);
  out.status = 200;
  out.content_type = config_.mime_types->lookup(name);
  out.length = static_cast<std::uint64_t>(st.st_size);
  out.headers.add("Accept-Ranges", "bytes");
  out.body.append_file(std::move(file), 0, static_cast<std::uint64_t>(st.st_size));
}

void FilesStore::prefer_precompressed(const Request& request, std::string_view relative,
                                      Entity& out) const {
  if (!config_.precompressed || out.status != 200 || !out.last_modified) {
    return;
  }
  // br first: smaller, and every browser that sends it prefers it.
  const std::string_view accept = request.headers.get("Accept-Encoding");
  bool any_sibling = false;
  for (const auto& [suffix, coding] : {std::pair{".br", "br"}, std::pair{".gz", "gzip"}}) {
    const int fd = open(std::string(relative) + suffix, O_RDONLY | O_NONBLOCK);
    if (fd < 0) {
      continue;
    }
    struct stat st {};
    // A sibling older than the file is stale: the file changed after it was compressed.
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_mtime < *out.last_modified) {
      ::close(fd);
      continue;
    }
    any_sibling = true;
    if (!header_allows_token(accept, coding)) {
      ::close(fd);
      continue;
    }
    set_validators(st, out);
    out.etag.insert(out.etag.size() - 1, std::string("-") + coding);
    out.length = static_cast<std::uint64_t>(st.st_size);
    out.body.clear();
    out.body.append_file(std::make_shared<const FileHandle>(fd), 0, *out.length);
    out.headers.set("Content-Encoding", coding);
    break;
  }
  if (any_sibling) {
    add_vary(out, "Accept-Encoding");
  }
}

Task<void> FilesStore::get(RequestContext& ctx, Entity& out) const {
  const Request& request = ctx.request;
  const std::string relative = relative_path(ctx, request.path);
  const bool cacheable = config_.open_file_cache_valid.count() > 0 && request.path.back() != '/';
  if (cacheable) {
    if (const OpenFile* hit = cached_open_file(this, relative, config_.open_file_cache_valid)) {
      serve_file(request, hit->file, hit->st, request.path, out);
      prefer_precompressed(request, relative, out);
      co_return;
    }
  }
  const int fd = open(relative, O_RDONLY | O_NONBLOCK);
  if (fd < 0) {
    const int err = errno;
    if (err == EXDEV || err == ELOOP) {
      COLLAGE_LOG(LogLevel::warn, "COL-FILES-0001", "{}: refused {}: it leads outside {}",
                  request.peer ? request.peer->address : "-", printable(request.path),
                  config_.document_root);
    }
    out.set_error(status_for_file_error(err));
    co_return;
  }
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    out.set_error(500);
    co_return;
  }
  if (!S_ISDIR(st.st_mode)) {
    if (request.path.back() == '/') {
      ::close(fd);  // "/file.txt/" names a directory that does not exist
      out.set_error(404);
      co_return;
    }
    auto file = std::make_shared<const FileHandle>(fd);
    if (cacheable && S_ISREG(st.st_mode)) {
      cache_open_file(this, relative, OpenFile{file, st});
    }
    serve_file(request, std::move(file), st, request.path, out);
    prefer_precompressed(request, relative, out);
    co_return;
  }
  FdGuard directory(fd);
  if (request.path.back() != '/') {
    std::string location;
    append_url_encoded_path(request.path, location);
    location += '/';
    if (!request.query.empty()) {
      location += '?';
      location += request.query;
    }
    out.set_error(301);
    out.set_body(
        "<!DOCTYPE html>\n<html><body><a href=\"" + location + "\">Moved</a></body></html>\n",
        "text/html; charset=utf-8");
    out.headers.add("Location", std::move(location));
    co_return;
  }
  for (const std::string& index : config_.index_files) {
    const std::string candidate = relative == "." ? index : relative + "/" + index;
    const int index_fd = open(candidate, O_RDONLY | O_NONBLOCK);
    if (index_fd >= 0) {
      struct stat index_stat {};
      if (::fstat(index_fd, &index_stat) == 0 && S_ISREG(index_stat.st_mode)) {
        serve_file(request, std::make_shared<const FileHandle>(index_fd), index_stat, index, out);
        prefer_precompressed(request, candidate, out);
        co_return;
      }
      ::close(index_fd);
    }
  }
  if (!config_.directory_listing) {
    out.set_error(403);
    co_return;
  }
  const int listing_fd = ::openat(directory.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (listing_fd < 0) {
    out.set_error(status_for_file_error(errno));
    co_return;
  }
  // Reading a large directory may block on disk: do it on the worker pool.
  auto render = [listing_fd, &request] {
    return render_directory_listing(listing_fd, request.path, request.query);
  };
  std::string html = co_await ctx.services.offload(render);
  out.status = 200;
  out.set_body(std::move(html), "text/html; charset=utf-8");
}

Task<void> FilesStore::put(RequestContext& ctx, Entity& out) const {
  const Request& request = ctx.request;
  if (request.path.back() == '/') {
    out.set_error(409);  // a collection cannot be written with PUT
    co_return;
  }
  const std::string relative = relative_path(ctx, request.path);
  const std::size_t slash = relative.rfind('/');
  const std::string parent = slash == std::string::npos ? "." : relative.substr(0, slash);
  const std::string name = slash == std::string::npos ? relative : relative.substr(slash + 1);

  FdGuard directory(open(parent, O_PATH | O_DIRECTORY));
  if (directory.get() < 0) {
    const int err = errno;
    out.set_error(err == ENOENT || err == ENOTDIR ? 409 : status_for_file_error(err));
    co_return;
  }
  struct stat st {};
  const bool exists = ::fstatat(directory.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
  if (exists && S_ISDIR(st.st_mode)) {
    out.set_error(409);
    co_return;
  }
  if (exists) {
    set_validators(st, out);
  }
  if (const int status = evaluate_preconditions(request, out, exists); status != 0) {
    out.set_error(status);
    co_return;
  }
  out.reset();

  std::string temp_name = std::string(kTempPrefix) + random_suffix();
  const int temp_fd =
      ::openat(directory.get(), temp_name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (temp_fd < 0) {
    COLLAGE_LOG(LogLevel::error, "COL-FILES-0002", "cannot create a temporary file for {}: {}",
                printable(request.path), std::strerror(errno));
    out.set_error(status_for_file_error(errno) == 404 ? 409 : 500);
    co_return;
  }
  TempFile temp(directory.get(), std::move(temp_name), temp_fd);
  if (request.write_offset) {
    // Resume or append: the new content starts with the old one's first bytes.
    const int status = copy_prefix(directory.get(), name, *request.write_offset, temp.fd());
    if (status != 0) {
      out.set_error(status);
      co_return;
    }
  }
  if (request.body != nullptr) {
    std::array<char, 64 * 1024> buffer;
    for (;;) {
      const BodyRead read = co_await request.body->read(buffer);
      if (read.error != BodyError::none) {
        COLLAGE_LOG(LogLevel::info, "COL-FILES-0003", "upload of {} abandoned: body {}",
                    printable(request.path),
                    read.error == BodyError::too_large   ? "too large"
                    : read.error == BodyError::timeout   ? "timed out"
                    : read.error == BodyError::malformed ? "malformed"
                                                         : "cut off");
        const int status = body_error_status(read.error);
        out.set_error(status == 0 ? 400 : status);
        co_return;  // TempFile removes the partial upload
      }
      if (read.bytes == 0) {
        break;
      }
      if (!write_all(temp.fd(), buffer.data(), read.bytes)) {
        const int err = errno;
        COLLAGE_LOG(LogLevel::error, "COL-FILES-0004", "writing {} failed: {}",
                    printable(request.path), std::strerror(err));
        out.set_error(err == ENOSPC || err == EDQUOT ? 507 : 500);
        co_return;
      }
    }
  }
  if (!temp.close_file() ||
      ::renameat(directory.get(), temp.name().c_str(), directory.get(), name.c_str()) != 0) {
    COLLAGE_LOG(LogLevel::error, "COL-FILES-0005", "cannot put {} in place: {}",
                printable(request.path), std::strerror(errno));
    out.set_error(500);
    co_return;
  }
  temp.commit();
  COLLAGE_LOG(LogLevel::info, "COL-FILES-0006", "stored {}", printable(request.path));
  if (exists) {
    out.status = 204;
  } else {
    std::string location;
    append_url_encoded_path(request.path, location);
    out.status = 201;
    out.set_body("Created\n", "text/plain; charset=utf-8");
    out.headers.add("Location", std::move(location));
  }
}

void FilesStore::remove(RequestContext& ctx, Entity& out) const {
  const Request& request = ctx.request;
  const std::string relative = relative_path(ctx, request.path);
  if (relative == ".") {
    out.set_error(403);  // never delete the document root itself
    return;
  }
  const std::size_t slash = relative.rfind('/');
  const std::string parent = slash == std::string::npos ? "." : relative.substr(0, slash);
  const std::string name = slash == std::string::npos ? relative : relative.substr(slash + 1);
  FdGuard directory(open(parent, O_PATH | O_DIRECTORY));
  if (directory.get() < 0) {
    out.set_error(status_for_file_error(errno));
    return;
  }
  struct stat st {};
  if (::fstatat(directory.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
    out.set_error(status_for_file_error(errno));
    return;
  }
  set_validators(st, out);
  if (const int status = evaluate_preconditions(request, out, /*exists=*/true); status != 0) {
    out.set_error(status);
    return;
  }
  const bool directory_entry = S_ISDIR(st.st_mode);
  if (::unlinkat(directory.get(), name.c_str(), directory_entry ? AT_REMOVEDIR : 0) != 0) {
    const int err = errno;
    out.set_error(err == ENOTEMPTY || err == EEXIST ? 409 : status_for_file_error(err));
    return;
  }
  COLLAGE_LOG(LogLevel::info, "COL-FILES-0007", "deleted {}", printable(request.path));
  out.reset();
  out.status = 204;
}

}  // namespace collage::files
