#include "collage/path.h"

#include <vector>

namespace collage {

int hex_digit_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

PathResult normalize_path(std::string_view raw, std::string& out, AboveRoot above_root) {
  out.clear();
  if (raw.empty() || raw.front() != '/') {
    return PathResult::not_absolute;
  }
  // Decode one segment at a time into out ("/a/b"), remembering where each segment starts so
  // ".." can pop it. Decoding first means "%2e%2e" is a dot segment as well.
  std::size_t starts[64];
  std::vector<std::size_t> more_starts;  // only for paths deeper than 64 segments
  std::size_t depth = 0;
  auto push_start = [&](std::size_t pos) {
    if (depth < 64) {
      starts[depth] = pos;
    } else {
      more_starts.push_back(pos);
    }
    ++depth;
  };
  auto pop_start = [&]() {
    --depth;
    if (depth < 64) {
      return starts[depth];
    }
    const std::size_t pos = more_starts.back();
    more_starts.pop_back();
    return pos;
  };
  bool ends_with_slash = false;
  std::size_t i = 0;
  const std::size_t n = raw.size();
  while (i < n) {
    while (i < n && raw[i] == '/') {
      ++i;
    }
    if (i >= n) {
      ends_with_slash = true;
      break;
    }
    const std::size_t segment_start = out.size();
    out += '/';
    while (i < n && raw[i] != '/') {
      char c = raw[i];
      if (c == '%') {
        if (i + 2 >= n) {
          return PathResult::bad_encoding;
        }
        const int hi = hex_digit_value(raw[i + 1]);
        const int lo = hex_digit_value(raw[i + 2]);
        if (hi < 0 || lo < 0) {
          return PathResult::bad_encoding;
        }
        c = static_cast<char>(hi * 16 + lo);
        if (c == '/') {
          return PathResult::encoded_slash;
        }
        i += 3;
      } else {
        ++i;
      }
      if (c == '\0') {
        return PathResult::nul_byte;
      }
      out += c;
    }
    const std::string_view segment = std::string_view(out).substr(segment_start + 1);
    if (segment == ".") {
      out.resize(segment_start);
      ends_with_slash = true;
    } else if (segment == "..") {
      out.resize(segment_start);
      if (depth == 0) {
        if (above_root == AboveRoot::refuse) {
          return PathResult::above_root;
        }
      } else {
        out.resize(pop_start());
      }
      ends_with_slash = true;
    } else {
      push_start(segment_start);
      ends_with_slash = false;
    }
  }
  if (out.empty() || ends_with_slash) {
    out += '/';
  }
  return PathResult::ok;
}

void append_url_encoded_path(std::string_view path, std::string& out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : path) {
    const bool safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.' || c == '~' || c == '/' || c == '!' ||
                      c == '$' || c == '&' || c == '\'' || c == '(' || c == ')' || c == '*' ||
                      c == '+' || c == ',' || c == ';' || c == '=' || c == ':' || c == '@';
    if (safe) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
}

void append_html_escaped(std::string_view text, std::string& out) {
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
}

}  // namespace collage
