#pragma once
// The built-in request logger: AccessLog FILE in Combined Log Format.

#include <memory>

#include "collage/logger.h"

namespace collage {

std::unique_ptr<RequestLogger> make_access_logger(const Scope& server, ConfigErrors& errors);

}  // namespace collage
