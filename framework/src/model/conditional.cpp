#include "collage/conditional.h"

#include "collage/http_date.h"

#include "collage/metadata.h"

namespace collage {
namespace {

bool is_weak(std::string_view tag) {
  return tag.size() >= 2 && tag[0] == 'W' && tag[1] == '/';
}
std::string_view opaque(std::string_view tag) {
  return is_weak(tag) ? tag.substr(2) : tag;
}

bool modified_since(const Entity& entity, std::string_view header) {
  const auto since = parse_http_date(header);
  // An unparsable date means the condition is ignored, i.e. treated as modified (RFC 9110).
  return !since || !entity.last_modified || *entity.last_modified > *since;
}

}  // namespace

bool etag_list_matches(std::string_view list, std::string_view etag, bool strong) {
  if (etag.empty()) {
    return false;
  }
  if (trim_ows(list) == "*") {
    return true;
  }
  if (strong && is_weak(etag)) {
    return false;
  }
  while (!list.empty()) {
    // Entity-tags may contain commas inside quotes, so walk quoted strings rather than split.
    list = trim_ows(list);
    std::size_t start = 0;
    if (list.starts_with("W/")) {
      start = 2;
    }
    if (start >= list.size() || list[start] != '"') {
      const std::size_t comma = list.find(',');
      if (comma == std::string_view::npos) {
        return false;
      }
      list.remove_prefix(comma + 1);
      continue;
    }
    const std::size_t close = list.find('"', start + 1);
    if (close == std::string_view::npos) {
      return false;
    }
    const std::string_view tag = list.substr(0, close + 1);
    const bool tag_matches = strong ? (!is_weak(tag) && tag == etag) : opaque(tag) == opaque(etag);
    if (tag_matches) {
      return true;
    }
    list.remove_prefix(close + 1);
    const std::size_t comma = list.find(',');
    if (comma == std::string_view::npos) {
      return false;
    }
    list.remove_prefix(comma + 1);
  }
  return false;
}

int evaluate_preconditions(const Request& request, const Entity& validators, bool exists) {
  const bool safe = request.method == Method::get || request.method == Method::head;
  // RFC 9110 §13.2.2, steps 1 to 4, in order.
  if (request.headers.contains("If-Match")) {
    const std::string_view value = request.headers.get("If-Match");
    if (!exists || !etag_list_matches(value, validators.etag, /*strong=*/true)) {
      return 412;
    }
  } else if (request.headers.contains("If-Unmodified-Since") && exists) {
    const auto since = parse_http_date(request.headers.get("If-Unmodified-Since"));
    if (since && validators.last_modified && *validators.last_modified > *since) {
      return 412;
    }
  }
  if (request.headers.contains("If-None-Match")) {
    const std::string_view value = request.headers.get("If-None-Match");
    const bool matches = exists && (trim_ows(value) == "*" ||
                                    etag_list_matches(value, validators.etag, /*strong=*/false));
    if (matches) {
      return safe ? 304 : 412;
    }
  } else if (safe && exists && request.headers.contains("If-Modified-Since")) {
    if (!modified_since(validators, request.headers.get("If-Modified-Since"))) {
      return 304;
    }
  }
  return 0;
}

}  // namespace collage
