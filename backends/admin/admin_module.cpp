// The admin API store (docs/admin-api.md): what <Listen admin="on"> listeners serve. Its
// directives guard the TCP form; a unix: socket is guarded by its file's mode and owner.

#include <fstream>

#include "admin_store.h"
#include "collage/registry.h"

namespace collage::admin {
namespace {

const Directive kDirectives[] = {
    {.name = "AdminToken",
     .contexts = kServerContext,
     .help = "The bearer token an admin API caller on TCP must send (Authorization: Bearer …); "
             "at least 16 characters. Prefer AdminTokenFile, which keeps it out of the "
             "configuration.",
     .field = bind<&AdminSettings::token>()},
    {.name = "AdminTokenFile",
     .type = ArgType::path,
     .contexts = kServerContext,
     .help = "A file holding the admin API's bearer token (its first line), read at start and on "
             "every reload.",
     .field = bind<&AdminSettings::token_file>()},
    {.name = "AdminAllowPublic",
     .type = ArgType::flag,
     .contexts = kServerContext,
     .default_value = "off",
     .help = "on: an admin=\"on\" TCP listener may bind a non-loopback address and callers from "
             "other hosts are served (with the token). Off, only loopback callers are.",
     .field = bind<&AdminSettings::allow_public>()},
};

}  // namespace

void register_module(Registry& registry) {
  registry.add_module({"admin", ModuleKind::store,
                       "the admin API: read, validate, replace and roll back the configuration"},
                      kDirectives);
  registry.add_store(
      "admin", [](const Scope& scope, ConfigErrors& errors) -> std::unique_ptr<Store> {
        AdminSettings settings = scope.read<AdminSettings>(kDirectives);
        if (!settings.token_file.empty()) {
          std::ifstream in(settings.token_file);
          std::string line;
          if (!in || !std::getline(in, line)) {
            errors.add(scope.where("AdminTokenFile"),
                       "cannot read the admin token from " + settings.token_file);
            return nullptr;
          }
          while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
            line.pop_back();
          }
          settings.token = line;
        }
        if ((scope.is_set("AdminToken") || !settings.token_file.empty()) &&
            settings.token.size() < 16) {
          errors.add(
              scope.where(settings.token_file.empty() ? "AdminToken" : "AdminTokenFile"),
              "the admin token must be at least 16 characters (openssl rand -hex 24 makes one)");
          return nullptr;
        }
        return std::make_unique<AdminStore>(std::move(settings));
      });
}

}  // namespace collage::admin
