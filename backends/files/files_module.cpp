// The file store module: its directives and its registration.

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "collage/registry.h"
#include "files_store.h"

namespace collage::files {
namespace {

const Directive kDirectives[] = {
    {.name = "DocumentRoot",
     .type = ArgType::path,
     .contexts = kAnyContext,
     .help = "Directory whose tree is served; the URL path maps onto it (required by the files "
             "store). Relative paths start at the working directory."},
    {.name = "DirectoryIndex",
     .type = ArgType::list,
     .contexts = kAnyContext,
     .default_value = "index.html",
     .help = "Files tried, in order, when a directory is requested."},
    {.name = "OpenFileCacheValid",
     .type = ArgType::duration,
     .contexts = kAnyContext,
     .default_value = "0s",
     .help = "Keep served files open this long and reuse them (like nginx's open_file_cache); "
             "0s: open the file on every request. Writes through Collage empty it at once."},
    {.name = "DirectoryListing",
     .type = ArgType::flag,
     .contexts = kAnyContext,
     .default_value = "off",
     .help = "Generate an HTML listing for directories without an index file (else 403)."},
    {.name = "SymlinksOutsideRoot",
     .type = ArgType::flag,
     .contexts = kAnyContext,
     .default_value = "off",
     .help = "Follow symbolic links that lead outside the document root (else 404)."},
    {.name = "Writable",
     .type = ArgType::flag,
     .contexts = kAnyContext,
     .default_value = "off",
     .help = "Accept PUT and DELETE here; uploads are written to a temporary file and renamed."},
    {.name = "MimeTypesFile",
     .type = ArgType::path,
     .contexts = kServerContext,
     .default_value = "/etc/mime.types",
     .help = "File mapping media types to extensions (Debian's media-types package)."},
    {.name = "AddType",
     .type = ArgType::list,
     .contexts = kAnyContext,
     .help = "Extra extension mappings as ext=type words, e.g. md=text/markdown."},
    {.name = "DefaultType",
     .type = ArgType::string,
     .contexts = kAnyContext,
     .default_value = "application/octet-stream",
     .help = "Media type of files whose extension is not known."},
};

std::unique_ptr<Store> make_store(const Scope& scope, ConfigErrors& errors) {
  if (!scope.is_set("DocumentRoot")) {
    errors.add(scope.where(), "the files store needs a DocumentRoot");
    return nullptr;
  }
  FilesConfig config;
  const std::string& root = scope.text("DocumentRoot");
  char resolved[PATH_MAX];
  if (::realpath(root.c_str(), resolved) == nullptr) {
    errors.add(scope.where("DocumentRoot"),
               "DocumentRoot " + root + " cannot be used: " + std::strerror(errno));
    return nullptr;
  }
  config.document_root = resolved;
  const int root_fd = ::open(resolved, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) {
    errors.add(scope.where("DocumentRoot"),
               "DocumentRoot " + root + " is not a directory: " + std::strerror(errno));
    return nullptr;
  }
  config.index_files = scope.list("DirectoryIndex");
  config.directory_listing = scope.flag("DirectoryListing");
  config.open_file_cache_valid = scope.duration("OpenFileCacheValid");
  config.symlinks_outside_root = scope.flag("SymlinksOutsideRoot");
  config.writable = scope.flag("Writable");

  auto mime = std::make_shared<MimeTypes>();
  const std::string& mime_file = scope.text("MimeTypesFile");
  if (!mime->load_file(mime_file)) {
    errors.add(scope.where("MimeTypesFile"), "cannot read " + mime_file);
  }
  for (const std::string& word : scope.list("AddType")) {
    const std::size_t equals = word.find('=');
    if (equals == std::string::npos || equals == 0 || equals + 1 == word.size()) {
      errors.add(scope.where("AddType"), "AddType expects ext=type words, got '" + word + "'");
      continue;
    }
    mime->add(std::string_view(word).substr(0, equals), std::string_view(word).substr(equals + 1));
  }
  mime->set_default(scope.text("DefaultType"));
  config.mime_types = std::move(mime);
  return std::make_unique<FilesStore>(std::move(config), root_fd);
}

}  // namespace

void register_module(Registry& registry) {
  registry.add_module({"files", ModuleKind::store, "static files from a document root"},
                      kDirectives);
  registry.add_store("files", make_store);
}

}  // namespace collage::files
