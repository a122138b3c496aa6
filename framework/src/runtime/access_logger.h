#pragma once
// The built-in request logger: AccessLog FILE in Combined Log Format, or one JSON object a line.

#include <memory>

#include "collage/logger.h"

namespace collage {

std::unique_ptr<RequestLogger> make_access_logger(const Scope& server, ConfigErrors& errors);

}  // namespace collage
