#pragma once
// The control process's directives (StartServers, ServerLimit, User, PidFile ...), registered by
// the Registry as the "process" module.

#include <span>

#include "collage/directive.h"

namespace collage {

std::span<const Directive> process_directives();

}  // namespace collage
