#pragma once
// docs/configuration.md, generated from the directive registry so it cannot drift.

#include <string>

#include "collage/registry.h"

namespace collage {

std::string directive_reference_markdown(const Registry& registry);
// "server, virtual host, location": the contexts a directive or element may appear in.
std::string contexts_text(unsigned contexts);

}  // namespace collage
