#pragma once
// RFC 9111 as a shared cache applies it: Cache-Control directives of requests and responses,
// whether a response may be stored, how long it is fresh, how old a stored one is, and whether a
// stored one may answer a request. Pure functions of headers and times, no I/O.

#include <cstdint>
#include <ctime>
#include <optional>
#include <string_view>

#include "collage/entity.h"
#include "collage/request.h"

namespace collage::cache {

// Delta-seconds past this are taken as this (RFC 9111 §1.2.2).
inline constexpr std::int64_t kMaxDeltaSeconds = 2147483648;

// The directives of every Cache-Control field of a message, combined. A directive given twice
// with different values, or with a value that is not delta-seconds, counts as 0 (stale: §4.2.1).
struct CacheControl {
  std::optional<std::int64_t> max_age;
  std::optional<std::int64_t> s_maxage;
  std::optional<std::int64_t> stale_while_revalidate;
  std::optional<std::int64_t> stale_if_error;
  std::optional<std::int64_t> min_fresh;  // request
  std::optional<std::int64_t> max_stale;  // request; kMaxDeltaSeconds when given without a value
  bool no_store = false;
  bool no_cache = false;  // also the qualified form no-cache="field" (taken as unqualified)
  bool is_private = false;
  bool is_public = false;
  bool must_revalidate = false;
  bool proxy_revalidate = false;
  bool immutable = false;
  bool only_if_cached = false;  // request
};

// Adds the directives of one field value to cc.
void parse_cache_control(std::string_view value, CacheControl& cc);
template <typename Fields>
CacheControl cache_control_of(const Fields& fields) {
  CacheControl cc;
  for (const auto& [name, value] : fields) {
    if (iequals(name, "Cache-Control")) {
      parse_cache_control(value, cc);
    }
  }
  return cc;
}

// What the location's directives add to the RFC's rules.
struct StoragePolicy {
  // Freshness for a status when the response gives none (nginx's proxy_cache_valid); 0: none.
  std::int64_t (*default_ttl)(const void* context, int status) = nullptr;
  const void* default_ttl_context = nullptr;
  std::int64_t heuristic_max = 86400;  // bound on the Last-Modified heuristic, seconds
  double heuristic_fraction = 0.1;     // of the time since Last-Modified (§4.2.2)
  bool store_set_cookie = false;       // store responses with Set-Cookie (the field is dropped)
};

// Why a response is not stored, or nullptr when it may be (§3, plus Set-Cookie and Vary: *).
const char* not_storable(const Request& request, const CacheControl& request_cc,
                         const Entity& response, const CacheControl& response_cc,
                         const StoragePolicy& policy);

// Seconds the response is fresh for from its Date (§4.2.1, §4.2.2), given `date` (the Date
// field, or when it was received) and the policy's defaults.
std::int64_t freshness_lifetime(const Entity& response, const CacheControl& cc, std::time_t date,
                                const StoragePolicy& policy);

// §4.2.3: the age of the response when it was received.
std::int64_t corrected_initial_age(const Entity& response, std::time_t date,
                                   std::time_t request_time, std::time_t response_time);

// How a stored response may answer a request.
enum class Usable : std::uint8_t {
  fresh,               // send it
  stale_allowed,       // stale, but the request's max-stale allows it
  stale_revalidating,  // stale within stale-while-revalidate: send while someone revalidates
  must_revalidate,     // stale, or no-cache: ask the store first
};

struct StoredTimes {
  std::int64_t corrected_initial_age = 0;
  std::time_t response_time = 0;
  std::int64_t freshness_lifetime = 0;
  std::int64_t stale_while_revalidate = 0;
  bool must_revalidate = false;
  bool no_cache = false;

  std::int64_t current_age(std::time_t now) const {
    return corrected_initial_age + std::max<std::int64_t>(0, now - response_time);
  }
};

// §4.2, §4.2.4, §5.2.1 and RFC 5861: whether the stored response answers the request now.
Usable usable(const StoredTimes& stored, const CacheControl& request_cc, bool request_no_cache,
              std::time_t now);

}  // namespace collage::cache
