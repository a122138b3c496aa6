#pragma once
// Opening paths beneath a root directory so that no request can leave it: "..", absolute paths and
// symbolic links that resolve outside the root all fail (openat2 with RESOLVE_BENEATH).

#include <string>

namespace collage {

// Opens relative_path (no leading '/', "." for the root itself) beneath root_fd. Returns the fd,
// or -1 with errno set; EXDEV means the path would have left the root. With follow_outside,
// symbolic links may point anywhere (the directive SymlinksOutsideRoot), but ".." still cannot
// climb out.
int open_beneath(int root_fd, const char* relative_path, int flags, bool follow_outside);

// The HTTP status for a failed file operation's errno: paths that would leave the root (EXDEV,
// ELOOP) look like absent files (404), permissions give 403, existing or non-empty targets 409,
// a full disk 507, anything else 500.
int status_for_file_error(int err);

}  // namespace collage
