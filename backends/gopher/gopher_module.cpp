// The gopher store module: its directives and its registration.

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "collage/registry.h"
#include "gopher_store.h"

namespace collage::gopher {
namespace {

struct Written {
  std::optional<std::string> gopher_root;
};

const Directive kDirectives[] = {
    {.name = "GopherRoot",
     .type = ArgType::path,
     .contexts = kAnyContext,
     .help = "Directory served by the gopher store; paths below the location prefix map onto "
             "it (required by the gopher store).",
     .field = bind<&Written::gopher_root>()},
};

}  // namespace

std::unique_ptr<Store> make_store(const Scope& scope, ConfigErrors& errors) {
  const Written written = scope.read<Written>(kDirectives);
  if (!written.gopher_root) {
    errors.add(scope.where(), "the gopher store needs a GopherRoot");
    return nullptr;
  }
  const std::string& root = *written.gopher_root;
  char resolved[PATH_MAX];
  if (::realpath(root.c_str(), resolved) == nullptr) {
    errors.add(scope.where("GopherRoot"),
               "GopherRoot " + root + " cannot be used: " + std::strerror(errno));
    return nullptr;
  }
  const int root_fd = ::open(resolved, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) {
    errors.add(scope.where("GopherRoot"),
               "GopherRoot " + root + " is not a directory: " + std::strerror(errno));
    return nullptr;
  }
  return std::make_unique<GopherStore>(GopherStoreConfig{resolved}, root_fd);
}

}  // namespace collage::gopher

namespace collage::gopher_store {

void register_module(Registry& registry) {
  registry.add_module({"gopher-store", ModuleKind::store,
                       "gopher holes: gophermaps and generated menus over any protocol"},
                      gopher::kDirectives);
  registry.add_store("gopher", gopher::make_store);
}

}  // namespace collage::gopher_store
