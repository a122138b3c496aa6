#pragma once
// Cache keys: the primary key (the URL as RFC 9111 §2 has it, or the resource a store resolved),
// the variant (the request's values of the headers a response's Vary names, normalized), and the
// 64-bit hash that names an entry in every tier. Every part is bounded whatever the request holds.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "collage/cache.h"
#include "collage/middle_end.h"

namespace collage::cache {

// Which parts of the URL the key holds (CacheKey), plus request headers by name.
struct KeySpec {
  bool scheme = true;
  bool host = true;
  bool path = true;
  bool query = true;
  std::vector<std::string> headers;
};

// Parses CacheKey's words ("scheme host path query header:X-Tenant"); false on an unknown one.
bool parse_key_spec(const std::vector<std::string>& words, KeySpec& spec, std::string& error);

// The scheme a request arrived with, as a URL would name it.
std::string_view request_scheme(const Request& request);

// The URL form: "https://example.org/a/b?x=1" (as CacheKey selects), for the filtered point
// and for stores that cannot name their resource.
std::string url_key(const Request& request, const KeySpec& spec);

// The primary key of a request at a cache point.
std::string primary_key(const RequestContext& ctx, CachePoint point, const KeySpec& spec);

// The header names a response's Vary lists, lower-cased, sorted, without duplicates.
std::vector<std::string> vary_names(const Entity& response);

// The request's values of those headers, normalized (§4.1): whitespace trimmed, repeated fields
// joined, Accept-Encoding reduced to the codings the server makes. Long values are hashed.
std::string variant_of(const Request& request, const std::vector<std::string>& names);

// FNV-1a over the key and the variant; names an entry (its full key is kept inside and checked,
// so two keys with one hash only take each other's place).
std::uint64_t entry_hash(std::string_view primary, std::string_view variant);

}  // namespace collage::cache
