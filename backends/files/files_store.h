#pragma once
// The file store: serves a document root, and accepts PUT and DELETE where a location is writable.

#include <sys/stat.h>
#include <chrono>

#include <memory>
#include <string>
#include <vector>

#include "collage/store.h"
#include "mime_types.h"

namespace collage::files {

struct FilesConfig {
  std::string document_root;  // absolute
  // Alias: the location's prefix is taken off the URL path before it maps onto document_root.
  bool alias = false;
  std::vector<std::string> index_files;
  bool directory_listing = false;
  bool symlinks_outside_root = false;
  bool writable = false;
  bool precompressed = false;
  std::shared_ptr<const MimeTypes> mime_types;
  std::chrono::milliseconds open_file_cache_valid{0};  // 0: every request opens the file
};

class FilesStore final : public Store {
 public:
  // Takes ownership of root_fd, an O_PATH descriptor of the document root.
  FilesStore(FilesConfig config, int root_fd);
  ~FilesStore() override;

  MethodSet methods() const override;
  Task<void> handle(RequestContext& ctx, Entity& out) const override;
  std::string resource_key(const RequestContext& ctx) const override;
  std::string file_path(const Location& location, std::string_view path) const override;
  PathKind path_kind(const Location& location, std::string_view path) const override;
  std::vector<std::string> writable_trees() const override {
    return config_.writable ? std::vector<std::string>{config_.document_root}
                            : std::vector<std::string>{};
  }

 private:
  Task<void> get(RequestContext& ctx, Entity& out) const;
  Task<void> put(RequestContext& ctx, Entity& out) const;
  void remove(RequestContext& ctx, Entity& out) const;
  // files_manage.cpp: what FTP needs besides reading and writing whole files.
  Task<void> list(RequestContext& ctx, Entity& out) const;
  void make_directory(RequestContext& ctx, Entity& out) const;
  void rename(RequestContext& ctx, Entity& out) const;
  // Fills out for an open file, with the fstat the caller already made (status 200, 304 or
  // 412; 403 if it is not a regular file).
  void serve_file(const Request& request, std::shared_ptr<const FileHandle> file,
                  const struct stat& st, std::string_view name, Entity& out) const;
  int open(std::string_view relative, int flags) const;
  // path (a URL path) relative to the document root, without the location prefix under Alias.
  std::string relative_path(const RequestContext& ctx, std::string_view path) const;
  std::string relative_path(const Location& location, std::string_view path) const;
  // PrecompressedFiles: serve file.br or file.gz instead, when the client takes that coding and
  // the sibling is not older than the file (as nginx's gzip_static and brotli_static).
  void prefer_precompressed(const Request& request, std::string_view relative, Entity& out) const;

  FilesConfig config_;
  int root_fd_;
};

// The document-root-relative form of a normalized URL path ("/a/b" → "a/b", "/" → ".").
std::string relative_of(std::string_view path);

// Copies the first `length` bytes of directory_fd/name into to_fd. Returns 0, or the status to
// answer (409 when the file is shorter than length or missing).
int copy_prefix(int directory_fd, const std::string& name, std::uint64_t length, int to_fd);

// ETag for a file: changes whenever its inode, size or modification time does.
std::string make_etag(unsigned long long inode, unsigned long long size, long long mtime_sec,
                      long mtime_nsec);

// An HTML index of the directory fd (which this function closes), for URL path `path`; `query`
// may ask for an order (C=N|M|S;O=A|D, as mod_autoindex).
std::string render_directory_listing(int directory_fd, std::string_view path,
                                     std::string_view query);

}  // namespace collage::files
