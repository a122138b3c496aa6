#pragma once
// The gopher store serves a gopher hole: directories become menus (from a gophermap, or generated
// from the directory), files are served as they are with a media type from their item type. Any
// file tree works, so a plain web document tree is browsable over Gopher too.
//
// Paths map below the location prefix (alias semantics): in <Location path="/gopher">, the URL
// path /gopher/docs/a.txt is GopherRoot/docs/a.txt, and the menus name it so.

#include <string>

#include "collage/store.h"

namespace collage::gopher {

struct GopherStoreConfig {
  std::string root;  // absolute, for messages
};

class GopherStore final : public Store {
 public:
  GopherStore(GopherStoreConfig config, int root_fd);
  ~GopherStore() override;

  MethodSet methods() const override { return MethodSet{Method::get, Method::head}; }
  Task<void> handle(RequestContext& ctx, Entity& out) const override;

 private:
  std::string directory_menu(const RequestContext& ctx, int directory_fd,
                             std::string_view directory_selector) const;

  GopherStoreConfig config_;
  int root_fd_;
};

}  // namespace collage::gopher
