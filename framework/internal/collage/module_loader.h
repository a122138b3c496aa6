#pragma once
// Loads a module built as a shared object (<LoadModule name path/>) into the registry, after
// checking that it was built for this server's module ABI. Called by the control process before
// the configuration is checked, so the module's directives are known.

#include <string>

#include "collage/config.h"

namespace collage {

class Registry;

// False with error set (naming the file and why) when the module cannot be used.
bool load_module(const ModuleToLoad& module, Registry& registry, std::string& error);

}  // namespace collage
