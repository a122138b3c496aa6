#pragma once
// collage --explain URL: runs one request through the pipeline of the loaded configuration, in
// this process, and prints what each phase decided: the virtual host and location, the store,
// each filter in chain order with what admitted it or kept it out, and the response's head.

#include <string>
#include <vector>

#include "collage/generation.h"

namespace collage {

// `url`: "http://host[:port]/path?query", "https://…", "gopher://…", "ftp://…" or "/path".
// `headers`: "Name: value" lines. Returns the exit status (0, or 2 for a URL it cannot use).
// `registry`: for the filters that exist but are not enabled at the location chosen.
int explain_request(const Generation& generation, const Registry& registry, const std::string& url,
                    const std::vector<std::string>& headers, const std::string& method);

}  // namespace collage
