#pragma once
// Directives that belong to no module: logging, routing glue and request limits shared by every
// front end.

#include <span>

#include "collage/directive.h"

namespace collage {

std::span<const Directive> core_directives();

}  // namespace collage
