#pragma once
// Pure FTP helpers: path resolution, reply formatting, listings, address parsing. Tested without
// sockets.

#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collage/listing.h"

namespace collage::ftp {

// Resolves an FTP path (absolute, or relative to cwd) into a normalized absolute FTP path.
// FTP paths are raw bytes ('%' is literal). Returns nullopt for NUL bytes or climbing above "/".
std::optional<std::string> resolve_path(std::string_view cwd, std::string_view argument);

// "root" + "/ftp/path" without doubling slashes; root is a normalized prefix such as "/" or "/pub".
std::string join_root(std::string_view root, std::string_view ftp_path);

// One reply; a text with several lines becomes a multi-line reply (RFC 959 §4.2).
std::string format_reply(int code, std::string_view text);

// `ls -l` style line, as curl, lftp and graphical clients parse it.
std::string list_line(const ListingEntry& entry, std::time_t now);
// MLSD/MLST facts (RFC 3659): "type=file;size=3;modify=20261122080000;perm=r; name".
std::string mlsx_line(const ListingEntry& entry, std::string_view perm);
// YYYYMMDDHHMMSS in UTC, for MDTM and modify facts.
std::string ftp_time(std::time_t when);

struct HostPort {
  std::string address;  // textual IP
  std::uint16_t port = 0;
};
// "h1,h2,h3,h4,p1,p2" (PORT) and "|1|ip|port|" or "|2|ip|port|" (EPRT).
std::optional<HostPort> parse_port_argument(std::string_view argument);
std::optional<HostPort> parse_eprt_argument(std::string_view argument);
// "(h1,h2,h3,h4,p1,p2)" for a PASV reply; empty if address is not IPv4.
std::string pasv_tuple(std::string_view ipv4, std::uint16_t port);

// Converts stored text (LF) to the wire's ASCII form (CRLF), and back. `previous_cr` carries
// state between pieces when converting from the wire.
void to_network_ascii(std::string_view piece, bool& previous_cr, std::string& out);
void from_network_ascii(std::string_view piece, bool& previous_cr, std::string& out);

}  // namespace collage::ftp
