#include "ftp_format.h"

#include <arpa/inet.h>

#include <fmt/format.h>

#include <charconv>

#include "collage/path.h"

namespace collage::ftp {

std::optional<std::string> resolve_path(std::string_view cwd, std::string_view argument) {
  std::string raw;
  if (argument.empty() || argument.front() != '/') {
    raw.assign(cwd);
    if (raw.empty() || raw.back() != '/') {
      raw += '/';
    }
  }
  for (char c : argument) {
    if (c == '%') {
      raw += "%25";  // literal in FTP; normalize_path decodes it back
    } else {
      raw += c;
    }
  }
  std::string out;
  // As vsftpd does, ".." at the root stays at the root instead of failing.
  const PathResult result = normalize_path(raw, out, AboveRoot::stay);
  if (result != PathResult::ok) {
    return std::nullopt;
  }
  if (out.size() > 1 && out.back() == '/') {
    out.pop_back();
  }
  return out;
}

std::string join_root(std::string_view root, std::string_view ftp_path) {
  std::string out(root);
  while (!out.empty() && out.back() == '/') {
    out.pop_back();
  }
  out += ftp_path.empty() ? "/" : ftp_path;
  return out.empty() ? "/" : out;
}

std::string format_reply(int code, std::string_view text) {
  std::string out;
  std::vector<std::string_view> lines;
  while (true) {
    const std::size_t lf = text.find('\n');
    lines.push_back(text.substr(0, lf));
    if (lf == std::string_view::npos) {
      break;
    }
    text.remove_prefix(lf + 1);
  }
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const bool last = i + 1 == lines.size();
    if (i == 0 || last) {
      out += fmt::format("{}{}{}\r\n", code, last ? ' ' : '-', lines[i]);
    } else {
      // Inner lines start with a space so no client mistakes one for the final line.
      out += ' ';
      out += lines[i];
      out += "\r\n";
    }
  }
  return out;
}

std::string list_line(const ListingEntry& entry, std::time_t now) {
  std::string mode = entry.directory ? "d" : "-";
  for (int shift = 6; shift >= 0; shift -= 3) {
    const unsigned bits = (entry.mode >> shift) & 7;
    mode += (bits & 4) ? 'r' : '-';
    mode += (bits & 2) ? 'w' : '-';
    mode += (bits & 1) ? 'x' : '-';
  }
  std::tm tm{};
  ::gmtime_r(&entry.modified, &tm);
  char when[16];
  const bool recent = entry.modified <= now + 3600 && now - entry.modified < 180 * 24 * 3600;
  std::strftime(when, sizeof when, recent ? "%b %d %H:%M" : "%b %d  %Y", &tm);
  return fmt::format("{} 1 ftp ftp {:>12} {} {}\r\n", mode, entry.size, when, entry.name);
}

std::string ftp_time(std::time_t when) {
  std::tm tm{};
  ::gmtime_r(&when, &tm);
  char text[16];
  std::strftime(text, sizeof text, "%Y%m%d%H%M%S", &tm);
  return text;
}

std::string mlsx_line(const ListingEntry& entry, std::string_view perm) {
  return fmt::format("type={};size={};modify={};perm={}; {}\r\n", entry.directory ? "dir" : "file",
                     entry.size, ftp_time(entry.modified), perm, entry.name);
}

namespace {

bool parse_number(std::string_view text, unsigned& out, unsigned max) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && ptr == text.data() + text.size() && !text.empty() && out <= max;
}

}  // namespace

std::optional<HostPort> parse_port_argument(std::string_view argument) {
  unsigned parts[6];
  for (int i = 0; i < 6; ++i) {
    const std::size_t comma = argument.find(',');
    if ((comma == std::string_view::npos) != (i == 5)) {
      return std::nullopt;
    }
    if (!parse_number(argument.substr(0, comma), parts[i], 255)) {
      return std::nullopt;
    }
    argument.remove_prefix(i == 5 ? argument.size() : comma + 1);
  }
  HostPort hp;
  hp.address = fmt::format("{}.{}.{}.{}", parts[0], parts[1], parts[2], parts[3]);
  hp.port = static_cast<std::uint16_t>(parts[4] * 256 + parts[5]);
  return hp;
}

std::optional<HostPort> parse_eprt_argument(std::string_view argument) {
  if (argument.size() < 7) {
    return std::nullopt;
  }
  const char d = argument.front();
  std::vector<std::string_view> fields;
  argument.remove_prefix(1);
  while (!argument.empty()) {
    const std::size_t next = argument.find(d);
    if (next == std::string_view::npos) {
      return std::nullopt;
    }
    fields.push_back(argument.substr(0, next));
    argument.remove_prefix(next + 1);
  }
  unsigned port = 0;
  if (fields.size() != 3 || (fields[0] != "1" && fields[0] != "2") ||
      !parse_number(fields[2], port, 65535) || fields[1].empty()) {
    return std::nullopt;
  }
  // RFC 2428: protocol 1 is an IPv4 address, 2 an IPv6 one (found by fuzzing: ":1" passed).
  std::string address(fields[1]);
  unsigned char bytes[16];
  if (::inet_pton(fields[0] == "1" ? AF_INET : AF_INET6, address.c_str(), bytes) != 1) {
    return std::nullopt;
  }
  return HostPort{std::move(address), static_cast<std::uint16_t>(port)};
}

std::string pasv_tuple(std::string_view ipv4, std::uint16_t port) {
  std::string out = "(";
  for (char c : ipv4) {
    if (c == ':') {
      return {};
    }
    out += c == '.' ? ',' : c;
  }
  return out + fmt::format(",{},{})", port / 256, port % 256);
}

void to_network_ascii(std::string_view piece, bool& previous_cr, std::string& out) {
  for (char c : piece) {
    if (c == '\n' && !previous_cr) {
      out += '\r';  // files that already have CRLF keep it
    }
    out += c;
    previous_cr = c == '\r';
  }
}

void from_network_ascii(std::string_view piece, bool& previous_cr, std::string& out) {
  for (char c : piece) {
    if (previous_cr && c != '\n') {
      out += '\r';  // a lone CR stays
    }
    previous_cr = c == '\r';
    if (!previous_cr) {
      out += c;
    }
  }
}

}  // namespace collage::ftp
