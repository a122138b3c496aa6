#include "collage/module_loader.h"

#include <dlfcn.h>

#include <cstring>

#include "collage/module_abi.h"
#include "collage/registry.h"

namespace collage {

bool load_module(const ModuleToLoad& module, Registry& registry, std::string& error) {
  for (const ModuleInfo& known : registry.modules()) {
    if (known.name == module.name) {
      error = "module '" + module.name + "' is already present (compiled in or loaded earlier)";
      return false;
    }
  }
  // Never closed: the registry keeps factories that point into the object.
  void* handle = ::dlopen(module.path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    error = "cannot load " + module.path + ": " + (why ? why : "unknown error");
    return false;
  }
  const auto* abi = static_cast<const ModuleAbi*>(::dlsym(handle, "collage_module"));
  if (abi == nullptr) {
    error = module.path + " is not a Collage module (it exports no collage_module)";
    return false;
  }
  if (abi->abi_version != kModuleAbiVersion || std::strcmp(abi->abi_tag, COLLAGE_ABI_TAG) != 0) {
    error = module.path + " was built for module ABI " + std::to_string(abi->abi_version) + " (" +
            abi->abi_tag + "); this collage has ABI " + std::to_string(kModuleAbiVersion) + " (" +
            COLLAGE_ABI_TAG + "): rebuild the module against this version's headers";
    return false;
  }
  if (module.name != abi->name) {
    error = module.path + " holds module '" + abi->name + "', not '" + module.name + "'";
    return false;
  }
  abi->register_module(registry);
  registry.mark_loaded(module.name, module.path);
  return true;
}

}  // namespace collage
