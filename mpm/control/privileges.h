#pragma once
// Dropping root in a child after the control process has bound the ports.

#include <string>

namespace collage::control {

// When running as root and user is not empty, switches to user (and group, or the user's own
// group) with its supplementary groups. False with error set when that fails.
bool drop_privileges(const std::string& user, const std::string& group, std::string& error);

}  // namespace collage::control
