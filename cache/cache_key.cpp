#include "cache_key.h"

#include <algorithm>

#include <fmt/format.h>
#include "collage/filter.h"
#include "collage/generation.h"

namespace collage::cache {
namespace {

constexpr std::size_t kMaxKeyPart = 512;  // longer parts are replaced by their hash

std::uint64_t fnv1a(std::string_view text, std::uint64_t hash = 0xcbf29ce484222325ULL) {
  for (const unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

void append_bounded(std::string& out, std::string_view part) {
  if (part.size() <= kMaxKeyPart) {
    out += part;
  } else {
    fmt::format_to(std::back_inserter(out), "#{:016x}{:016x}", fnv1a(part), fnv1a(part, 7));
  }
}

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

bool parse_key_spec(const std::vector<std::string>& words, KeySpec& spec, std::string& error) {
  spec = KeySpec{false, false, false, false, {}};
  for (const std::string& word : words) {
    if (word == "scheme") {
      spec.scheme = true;
    } else if (word == "host") {
      spec.host = true;
    } else if (word == "path") {
      spec.path = true;
    } else if (word == "query") {
      spec.query = true;
    } else if (word.starts_with("header:") && word.size() > 7) {
      spec.headers.push_back(word.substr(7));
    } else {
      error = "unknown CacheKey part '" + word +
              "' (expected scheme, host, path, query or header:Name)";
      return false;
    }
  }
  return true;
}

std::string_view request_scheme(const Request& request) {
  if (request.protocol == "ftp") {
    return request.secure ? "ftps" : "ftp";
  }
  if (request.protocol == "gopher") {
    return "gopher";
  }
  return request.secure ? "https" : "http";
}

std::string url_key(const Request& request, const KeySpec& spec) {
  std::string key;
  key.reserve(64 + request.path.size());
  if (spec.scheme) {
    key += request_scheme(request);
    key += "://";
  }
  if (spec.host) {
    append_bounded(key, request.host);
  }
  if (spec.path) {
    append_bounded(key, request.path);
  }
  if (spec.query && !request.query.empty()) {
    key += '?';
    append_bounded(key, request.query);
  }
  for (const std::string& name : spec.headers) {
    key += '\n';
    key += name;
    key += ':';
    append_bounded(key, request.headers.get(name));
  }
  return key;
}

std::string primary_key(const RequestContext& ctx, CachePoint point, const KeySpec& spec) {
  if (point == CachePoint::store) {
    std::string resource = ctx.location.store->resource_key(ctx);
    if (!resource.empty()) {
      std::string key;
      append_bounded(key, resource);
      for (const std::string& name : spec.headers) {
        key += '\n';
        key += name;
        key += ':';
        append_bounded(key, ctx.request.headers.get(name));
      }
      return key;
    }
  }
  return url_key(ctx.request, spec);
}

std::vector<std::string> vary_names(const Entity& response) {
  std::vector<std::string> names;
  for (const auto& [field, value] : response.headers.fields()) {
    if (!iequals(field, "Vary")) {
      continue;
    }
    std::string_view rest = value;
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      const std::string_view item = trim_ows(rest.substr(0, comma));
      if (!item.empty() && names.size() < 32) {
        names.push_back(lower(item.substr(0, 64)));
      }
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

std::string variant_of(const Request& request, const std::vector<std::string>& names) {
  std::string variant;
  for (const std::string& name : names) {
    variant += name;
    variant += '=';
    if (name == "accept-encoding") {
      // Only the codings the compress filter makes tell variants apart.
      const std::string_view accept = request.headers.get("Accept-Encoding");
      variant += token_weight(accept, "br") > 0 ? "br" : "";
      variant += token_weight(accept, "gzip") > 0 ? "+gzip" : "";
    } else {
      std::string joined;
      for (const auto& [field, value] : request.headers.fields()) {
        if (iequals(field, name)) {
          if (!joined.empty()) {
            joined += ", ";
          }
          joined += trim_ows(value);
        }
      }
      append_bounded(variant, joined);
    }
    variant += '\n';
  }
  return variant;
}

std::uint64_t entry_hash(std::string_view primary, std::string_view variant) {
  return fnv1a(variant, fnv1a("\x01", fnv1a(primary)));
}

}  // namespace collage::cache
