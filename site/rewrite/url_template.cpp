#include "url_template.h"

#include <algorithm>
#include <array>
#include <utility>

#include "collage/generation.h"

namespace collage::rewrite {
namespace {

using Kind = UrlTemplate::Kind;

// %{NAME} variables; HTTP:Name is handled apart.
constexpr std::array<std::pair<std::string_view, Kind>, 10> kVariables{{
    {"HTTP_HOST", Kind::http_host},
    {"REQUEST_URI", Kind::path},
    {"QUERY_STRING", Kind::query},
    {"REQUEST_METHOD", Kind::method},
    {"REQUEST_SCHEME", Kind::scheme},
    {"HTTPS", Kind::https},
    {"REMOTE_ADDR", Kind::remote_addr},
    {"SERVER_PORT", Kind::server_port},
    {"REQUEST_FILENAME", Kind::request_filename},
    {"THE_REQUEST_URI", Kind::request_uri},
}};

// %{HTTP_HOST} and friends name request headers.
constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kHeaderVariables{{
    {"HTTP_USER_AGENT", "User-Agent"},
    {"HTTP_REFERER", "Referer"},
    {"HTTP_COOKIE", "Cookie"},
    {"HTTP_ACCEPT", "Accept"},
    {"HTTP_FORWARDED", "Forwarded"},
}};

constexpr std::array<std::pair<std::string_view, Kind>, 6> kNginxVariables{{
    {"uri", Kind::path},
    {"args", Kind::query},
    {"query_string", Kind::query},
    {"request_uri", Kind::request_uri},
    {"host", Kind::host},
    {"scheme", Kind::scheme},
}};

bool is_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

}  // namespace

void append_url_encoded(std::string_view text, std::string& out) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    const bool keep = c > 0x20 && c < 0x7f && c != '%' && c != '?' && c != '#' && c != '"' &&
                      c != '<' && c != '>' && c != '\\' && c != '^' && c != '`' && c != '{' &&
                      c != '|' && c != '}';
    if (keep) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
}

bool UrlTemplate::parse(std::string_view text, std::string& error, bool condition_groups) {
  text_ = text;
  parts_.clear();
  auto literal = [&](std::string_view piece) {
    if (parts_.empty() || parts_.back().kind != Kind::literal) {
      parts_.push_back(Part{Kind::literal, {}, 0});
    }
    parts_.back().text += piece;
  };
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    const bool digit_next = i + 1 < text.size() && text[i + 1] >= '0' && text[i + 1] <= '9';
    if (c == '\\') {
      if (i + 1 == text.size()) {
        error = "'" + std::string(text) + "' ends with a lone backslash";
        return false;
      }
      literal(text.substr(i + 1, 1));
      i += 2;
    } else if ((c == '$' || (c == '%' && condition_groups)) && digit_next) {
      parts_.push_back(
          Part{c == '$' ? Kind::rule_group : Kind::condition_group, {}, text[i + 1] - '0'});
      i += 2;
    } else if (c == '%' && i + 1 < text.size() && text[i + 1] == '{') {
      const std::size_t close = text.find('}', i + 2);
      if (close == std::string_view::npos) {
        error = "'" + std::string(text) + "' has a %{ without its }";
        return false;
      }
      const std::string_view name = text.substr(i + 2, close - i - 2);
      i = close + 1;
      if (name.starts_with("HTTP:") && name.size() > 5) {
        parts_.push_back(Part{Kind::header, std::string(name.substr(5)), 0});
        continue;
      }
      const auto header = std::find_if(kHeaderVariables.begin(), kHeaderVariables.end(),
                                       [&](const auto& v) { return v.first == name; });
      if (header != kHeaderVariables.end()) {
        parts_.push_back(Part{Kind::header, std::string(header->second), 0});
        continue;
      }
      const auto variable = std::find_if(kVariables.begin(), kVariables.end(),
                                         [&](const auto& v) { return v.first == name; });
      if (variable == kVariables.end()) {
        error = "unknown variable %{" + std::string(name) +
                "} (known: REQUEST_URI, QUERY_STRING, REQUEST_METHOD, REQUEST_SCHEME, HTTPS, "
                "REMOTE_ADDR, SERVER_PORT, REQUEST_FILENAME, HTTP_HOST, HTTP_USER_AGENT, "
                "HTTP_REFERER, HTTP_COOKIE, HTTP_ACCEPT, HTTP:Header-Name)";
        return false;
      }
      parts_.push_back(Part{variable->second, {}, 0});
    } else if (c == '$' && i + 1 < text.size() && is_name_char(text[i + 1])) {
      std::size_t end = i + 1;
      while (end < text.size() && is_name_char(text[end])) {
        ++end;
      }
      const std::string_view name = text.substr(i + 1, end - i - 1);
      const auto variable = std::find_if(kNginxVariables.begin(), kNginxVariables.end(),
                                         [&](const auto& v) { return v.first == name; });
      if (variable == kNginxVariables.end()) {
        error = "unknown variable $" + std::string(name) +
                " (known: $1..$9, $uri, $args, $query_string, $request_uri, $host, $scheme)";
        return false;
      }
      parts_.push_back(Part{variable->second, {}, 0});
      i = end;
    } else {
      literal(text.substr(i, 1));
      ++i;
    }
  }
  return true;
}

bool UrlTemplate::is_request_filename() const {
  return parts_.size() == 1 && parts_[0].kind == Kind::request_filename;
}

void UrlTemplate::expand(const ExpandInput& in, bool for_url, std::string& out) const {
  const Request& request = in.request;
  auto decoded = [&](std::string_view text) {
    if (for_url) {
      append_url_encoded(text, out);
    } else {
      out += text;
    }
  };
  for (const Part& part : parts_) {
    switch (part.kind) {
      case Kind::literal: out += part.text; break;
      case Kind::rule_group:
        if (in.rule != nullptr) {
          decoded((*in.rule)[static_cast<std::size_t>(part.group)]);
        }
        break;
      case Kind::condition_group:
        if (in.condition != nullptr) {
          const std::string_view group = (*in.condition)[static_cast<std::size_t>(part.group)];
          if (in.condition_decoded) {
            decoded(group);
          } else {
            out += group;
          }
        }
        break;
      case Kind::header: out += request.headers.get(part.text); break;
      case Kind::host: out += request.host; break;
      case Kind::http_host:
        // HTTP/2 carries it as :authority, which the front end gives as the host only.
        out += request.headers.contains("Host") ? request.headers.get("Host") : request.host;
        break;
      case Kind::path: decoded(request.path); break;
      case Kind::query: out += request.query; break;
      case Kind::request_uri: out += request.target; break;
      case Kind::method: out += request.method_token; break;
      case Kind::scheme: out += request.secure ? "https" : "http"; break;
      case Kind::https: out += request.secure ? "on" : "off"; break;
      case Kind::remote_addr:
        if (request.peer != nullptr) {
          out += request.peer->address;
        }
        break;
      case Kind::server_port:
        if (request.peer != nullptr) {
          out += std::to_string(request.peer->local_port);
        }
        break;
      case Kind::request_filename:
        if (in.location.store != nullptr) {
          out += in.location.store->file_path(in.location, request.path);
        }
        break;
    }
  }
}

}  // namespace collage::rewrite
