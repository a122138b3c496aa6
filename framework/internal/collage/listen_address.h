#pragma once
// What a <Listen address="…"> names: an IP literal, or a host name resolved when the
// configuration is read (as nginx and httpd do), e.g. "localhost".

#include <string>
#include <vector>

namespace collage {

// The numeric addresses, without duplicates, in the resolver's order. Empty, with `error` saying
// why, when the name resolves to nothing usable.
std::vector<std::string> resolve_listen_address(const std::string& address, std::string& error);

}  // namespace collage
