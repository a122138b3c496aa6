#pragma once
// The admin store: turns HTTP requests on an admin listener into control-channel calls
// (framework/proto/admin.proto) and their replies back into responses. It holds no
// configuration state of its own: the control process owns it.

#include <string>

#include "collage/store.h"

namespace collage::admin {

struct AdminSettings {
  std::string token;
  std::string token_file;
  bool allow_public = false;
};

class AdminStore final : public Store {
 public:
  explicit AdminStore(AdminSettings settings) : settings_(std::move(settings)) {}

  MethodSet methods() const override {
    return MethodSet{Method::get, Method::head, Method::post, Method::put, Method::del};
  }
  Task<void> handle(RequestContext& ctx, Entity& out) const override;

 private:
  // True when the caller may go on; else out holds the refusal (401 or 403).
  bool admitted(const Request& request, Entity& out) const;

  AdminSettings settings_;
};

}  // namespace collage::admin
