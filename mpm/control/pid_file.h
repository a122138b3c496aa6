#pragma once
// The PidFile: written by the control process once its ports are bound, read by collage -k.

#include <sys/types.h>

#include <string>

namespace collage::control {

// Writes the current process id; false with error set on failure. "off" writes nothing.
bool write_pid_file(const std::string& path, std::string& error);
void remove_pid_file(const std::string& path);
// The process id in the file if that process is alive, else 0.
pid_t running_pid(const std::string& path);

}  // namespace collage::control
