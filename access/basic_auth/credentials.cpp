#include "credentials.h"

#include "collage/metadata.h"

namespace collage::basic_auth {
namespace {

int sextet(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '+') {
    return 62;
  }
  return c == '/' ? 63 : -1;
}

}  // namespace

bool decode_base64(std::string_view text, std::string& out) {
  out.clear();
  if (text.size() % 4 != 0) {
    return false;
  }
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool final_group = i + 4 == text.size();
    const int pads = final_group ? (text[i + 3] == '=') + (text[i + 2] == '=') : 0;
    if (pads == 1 && text[i + 2] == '=') {
      return false;  // "x=y=" is not padding
    }
    std::uint32_t group = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      const int value = j >= 4 - static_cast<std::size_t>(pads) ? 0 : sextet(text[i + j]);
      if (value < 0) {
        return false;
      }
      group = (group << 6) | static_cast<std::uint32_t>(value);
    }
    out += static_cast<char>(group >> 16);
    if (pads < 2) {
      out += static_cast<char>((group >> 8) & 0xff);
    }
    if (pads < 1) {
      out += static_cast<char>(group & 0xff);
    }
  }
  return true;
}

bool parse_basic(std::string_view header, std::string& user, std::string& password) {
  while (!header.empty() && header.front() == ' ') {
    header.remove_prefix(1);
  }
  if (header.size() < 6 || !iequals(header.substr(0, 5), "Basic") || header[5] != ' ') {
    return false;
  }
  header.remove_prefix(6);
  while (!header.empty() && header.front() == ' ') {
    header.remove_prefix(1);
  }
  while (!header.empty() && header.back() == ' ') {
    header.remove_suffix(1);
  }
  std::string decoded;
  if (!decode_base64(header, decoded)) {
    return false;
  }
  const std::size_t colon = decoded.find(':');
  if (colon == std::string::npos) {
    return false;
  }
  user = decoded.substr(0, colon);
  password = decoded.substr(colon + 1);
  return true;
}

}  // namespace collage::basic_auth
