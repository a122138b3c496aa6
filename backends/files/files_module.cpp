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

// The files store's directives as written; make_store checks them and builds a FilesConfig.
struct Written {
  std::optional<std::string> document_root;
  std::optional<std::string> alias;
  std::vector<std::string> directory_index;
  bool directory_listing = false;
  std::chrono::milliseconds open_file_cache_valid{0};
  bool symlinks_outside_root = false;
  bool writable = false;
  bool precompressed = false;
  std::string mime_types_file;
  std::vector<std::string> add_type;
  std::string default_type;
};

const Directive kDirectives[] = {
    {.name = "DocumentRoot",
     .type = ArgType::path,
     .contexts = kAnyContext,
     .help = "Directory whose tree is served; the URL path maps onto it (required by the files "
             "store). Relative paths start at the working directory.",
     .field = bind<&Written::document_root>()},
    {.name = "Alias",
     .type = ArgType::path,
     .contexts = kLocationContext,
     .help = "Directory this location's URL prefix maps onto (nginx's alias): /static/a.css "
             "in <Location path=\"/static\"> is DIR/a.css. Wins over DocumentRoot.",
     .field = bind<&Written::alias>()},
    {.name = "DirectoryIndex",
     .type = ArgType::list,
     .contexts = kAnyContext,
     .default_value = "index.html",
     .help = "Files tried, in order, when a directory is requested.",
     .field = bind<&Written::directory_index>()},
    {.name = "OpenFileCacheValid",
     .type = ArgType::duration,
     .contexts = kAnyContext,
     .default_value = "0s",
     .help = "Keep served files open this long and reuse them (like nginx's open_file_cache); "
             "0s: open the file on every request. Writes through Collage empty it at once.",
     .field = bind<&Written::open_file_cache_valid>()},
    {.name = "DirectoryListing",
     .type = ArgType::flag,
     .contexts = kAnyContext,
     .default_value = "off",
     .help = "Generate an HTML listing for directories without an index file (else 403).",
     .field = bind<&Written::directory_listing>()},
    {.name = "SymlinksOutsideRoot",
     .type = ArgType::flag,
     .contexts = kAnyContext,
     .default_value = "off",
     .help = "Follow symbolic links that lead outside the document root (else 404).",
     .field = bind<&Written::symlinks_outside_root>()},
    {.name = "Writable",
     .type = ArgType::flag,
     .contexts = kAnyContext,
     .default_value = "off",
     .help = "Accept PUT and DELETE here; uploads are written to a temporary file and renamed.",
     .field = bind<&Written::writable>()},
    {.name = "PrecompressedFiles",
     .type = ArgType::flag,
     .contexts = kAnyContext,
     .default_value = "off",
     .help = "Serve file.br or file.gz in place of file when the client accepts that coding and "
             "the sibling is not older (nginx's gzip_static); Vary: Accept-Encoding follows.",
     .field = bind<&Written::precompressed>()},
    {.name = "MimeTypesFile",
     .type = ArgType::path,
     .contexts = kServerContext,
     .default_value = "/etc/mime.types",
     .help = "File mapping media types to extensions (Debian's media-types package).",
     .field = bind<&Written::mime_types_file>()},
    {.name = "AddType",
     .type = ArgType::list,
     .contexts = kAnyContext,
     .help = "Extra extension mappings as ext=type words, e.g. md=text/markdown.",
     .field = bind<&Written::add_type>()},
    {.name = "DefaultType",
     .type = ArgType::string,
     .contexts = kAnyContext,
     .default_value = "application/octet-stream",
     .help = "Media type of files whose extension is not known.",
     .field = bind<&Written::default_type>()},
};

std::unique_ptr<Store> make_store(const Scope& scope, ConfigErrors& errors) {
  const Written written = scope.read<Written>(kDirectives);
  if (!written.document_root && !written.alias) {
    errors.add(scope.where(), "the files store needs a DocumentRoot (or an Alias)");
    return nullptr;
  }
  FilesConfig config;
  config.alias = written.alias.has_value();
  const std::string& root = config.alias ? *written.alias : *written.document_root;
  const char* root_name = config.alias ? "Alias" : "DocumentRoot";
  char resolved[PATH_MAX];
  if (::realpath(root.c_str(), resolved) == nullptr) {
    errors.add(scope.where(root_name),
               std::string(root_name) + " " + root + " cannot be used: " + std::strerror(errno));
    return nullptr;
  }
  config.document_root = resolved;
  const int root_fd = ::open(resolved, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) {
    errors.add(scope.where(root_name), std::string(root_name) + " " + root +
                                           " is not a directory: " + std::strerror(errno));
    return nullptr;
  }
  config.index_files = written.directory_index;
  config.directory_listing = written.directory_listing;
  config.open_file_cache_valid = written.open_file_cache_valid;
  config.symlinks_outside_root = written.symlinks_outside_root;
  config.writable = written.writable;
  config.precompressed = written.precompressed;

  auto mime = std::make_shared<MimeTypes>();
  const std::string& mime_file = written.mime_types_file;
  if (!mime->load_file(mime_file)) {
    errors.add(scope.where("MimeTypesFile"), "cannot read " + mime_file);
  }
  for (const std::string& word : written.add_type) {
    const std::size_t equals = word.find('=');
    if (equals == std::string::npos || equals == 0 || equals + 1 == word.size()) {
      errors.add(scope.where("AddType"), "AddType expects ext=type words, got '" + word + "'");
      continue;
    }
    mime->add(std::string_view(word).substr(0, equals), std::string_view(word).substr(equals + 1));
  }
  mime->set_default(written.default_type);
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
