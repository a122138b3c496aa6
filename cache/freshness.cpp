#include "freshness.h"

#include <algorithm>
#include <charconv>

#include "collage/http_date.h"

namespace collage::cache {
namespace {

// delta-seconds, quoted or not (some origins quote them); nullopt when it is not a number.
std::optional<std::int64_t> delta_seconds(std::string_view text) {
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
    text = text.substr(1, text.size() - 2);
  }
  if (text.empty()) {
    return std::nullopt;
  }
  std::int64_t value = 0;
  for (const char c : text) {
    if (c < '0' || c > '9') {
      return std::nullopt;
    }
    value = std::min(kMaxDeltaSeconds, value * 10 + (c - '0'));
  }
  return value;
}

// A directive with a value: the first occurrence's value, or 0 (stale) when two disagree or
// the value is not delta-seconds.
void set_delta(std::optional<std::int64_t>& field, std::string_view value) {
  const std::optional<std::int64_t> parsed = delta_seconds(value);
  if (!parsed) {
    field = 0;
  } else if (field && *field != *parsed) {
    field = 0;
  } else {
    field = parsed;
  }
}

bool heuristically_cacheable(int status) {
  switch (status) {
    case 200:
    case 203:
    case 204:
    case 206:
    case 300:
    case 301:
    case 308:
    case 404:
    case 405:
    case 410:
    case 414:
    case 501: return true;
    default: return false;
  }
}

bool has_explicit_expiry(const Entity& response, const CacheControl& cc) {
  return cc.s_maxage || cc.max_age || response.headers.contains("Expires");
}

}  // namespace

void parse_cache_control(std::string_view value, CacheControl& cc) {
  std::size_t pos = 0;
  while (pos < value.size()) {
    // One directive: token [ "=" ( token / quoted-string ) ], up to the next comma outside quotes.
    std::size_t end = pos;
    bool quoted = false;
    while (end < value.size() && (quoted || value[end] != ',')) {
      if (value[end] == '"') {
        quoted = !quoted;
      } else if (quoted && value[end] == '\\' && end + 1 < value.size()) {
        ++end;
      }
      ++end;
    }
    const std::string_view item = trim_ows(value.substr(pos, end - pos));
    pos = end + 1;
    const std::size_t equals = item.find('=');
    const std::string_view name = trim_ows(item.substr(0, equals));
    const bool has_value = equals != std::string_view::npos;
    const std::string_view argument = has_value ? trim_ows(item.substr(equals + 1)) : "";
    if (iequals(name, "max-age")) {
      set_delta(cc.max_age, argument);
    } else if (iequals(name, "s-maxage")) {
      set_delta(cc.s_maxage, argument);
    } else if (iequals(name, "stale-while-revalidate")) {
      set_delta(cc.stale_while_revalidate, argument);
    } else if (iequals(name, "stale-if-error")) {
      set_delta(cc.stale_if_error, argument);
    } else if (iequals(name, "min-fresh")) {
      set_delta(cc.min_fresh, argument);
    } else if (iequals(name, "max-stale")) {
      if (has_value) {
        set_delta(cc.max_stale, argument);
      } else {
        cc.max_stale = kMaxDeltaSeconds;
      }
    } else if (iequals(name, "no-store")) {
      cc.no_store = true;
    } else if (iequals(name, "no-cache")) {
      cc.no_cache = true;
    } else if (iequals(name, "private")) {
      cc.is_private = true;
    } else if (iequals(name, "public")) {
      cc.is_public = true;
    } else if (iequals(name, "must-revalidate")) {
      cc.must_revalidate = true;
    } else if (iequals(name, "proxy-revalidate")) {
      cc.proxy_revalidate = true;
    } else if (iequals(name, "immutable")) {
      cc.immutable = true;
    } else if (iequals(name, "only-if-cached")) {
      cc.only_if_cached = true;
    }
  }
}

const char* not_storable(const Request& request, const CacheControl& request_cc,
                         const Entity& response, const CacheControl& response_cc,
                         const StoragePolicy& policy) {
  if (request.method != Method::get) {
    return "not a GET";
  }
  if (response.status < 200 || response.status == 206 || response.status == 304) {
    return "not a complete response";
  }
  if (request_cc.no_store || response_cc.no_store) {
    return "no-store";
  }
  if (response_cc.is_private) {
    return "private";
  }
  if (request.headers.contains("Authorization") && !response_cc.is_public &&
      !response_cc.s_maxage && !response_cc.must_revalidate) {
    return "the request carried Authorization";  // §3.5
  }
  for (const auto& [name, value] : response.headers.fields()) {
    if (iequals(name, "Vary") && value.find('*') != std::string::npos) {
      return "Vary: *";
    }
    if (iequals(name, "Set-Cookie") && !policy.store_set_cookie) {
      return "Set-Cookie (CacheSetCookie off)";
    }
  }
  const bool ttl_for_status = policy.default_ttl != nullptr &&
                              policy.default_ttl(policy.default_ttl_context, response.status) > 0;
  if (!has_explicit_expiry(response, response_cc) && !response_cc.is_public && !ttl_for_status &&
      !heuristically_cacheable(response.status)) {
    return "no freshness information for this status";
  }
  return nullptr;
}

std::int64_t freshness_lifetime(const Entity& response, const CacheControl& cc, std::time_t date,
                                const StoragePolicy& policy) {
  if (cc.s_maxage) {
    return *cc.s_maxage;  // a shared cache's own directive wins (§5.2.2.10)
  }
  if (cc.max_age) {
    return *cc.max_age;
  }
  if (response.headers.contains("Expires")) {
    // An invalid date, "0" for instance, means already expired (§5.3).
    const std::optional<std::time_t> expires = parse_http_date(response.headers.get("Expires"));
    return expires ? std::max<std::int64_t>(0, *expires - date) : 0;
  }
  if (policy.default_ttl != nullptr) {
    if (const std::int64_t ttl = policy.default_ttl(policy.default_ttl_context, response.status);
        ttl > 0) {
      return ttl;
    }
  }
  if (response.last_modified && (heuristically_cacheable(response.status) || cc.is_public) &&
      *response.last_modified < date) {
    const auto since = static_cast<double>(date - *response.last_modified);
    return std::min(policy.heuristic_max,
                    static_cast<std::int64_t>(since * policy.heuristic_fraction));
  }
  return 0;
}

std::int64_t corrected_initial_age(const Entity& response, std::time_t date,
                                   std::time_t request_time, std::time_t response_time) {
  std::int64_t age_value = 0;
  if (response.headers.contains("Age")) {
    // An Age that is not delta-seconds is ignored (§5.1).
    age_value = delta_seconds(trim_ows(response.headers.get("Age"))).value_or(0);
  }
  const std::int64_t apparent_age = std::max<std::int64_t>(0, response_time - date);
  const std::int64_t response_delay = std::max<std::int64_t>(0, response_time - request_time);
  return std::max(apparent_age, age_value + response_delay);
}

Usable usable(const StoredTimes& stored, const CacheControl& request_cc, bool request_no_cache,
              std::time_t now) {
  if (stored.no_cache || request_no_cache) {
    return Usable::must_revalidate;
  }
  const std::int64_t age = stored.current_age(now);
  std::int64_t lifetime = stored.freshness_lifetime;
  if (request_cc.max_age) {
    // max-age=N accepts an age of N whole seconds; max-age=0 asks for revalidation.
    lifetime = std::min(lifetime, *request_cc.max_age == 0 ? 0 : *request_cc.max_age + 1);
  }
  std::int64_t wanted_left = 0;
  if (request_cc.min_fresh) {
    wanted_left = *request_cc.min_fresh;
  }
  if (age < lifetime - wanted_left) {
    return Usable::fresh;
  }
  if (stored.must_revalidate) {
    return Usable::must_revalidate;  // §4.2.4: never stale without revalidation
  }
  const std::int64_t staleness = age - stored.freshness_lifetime;
  if (request_cc.max_stale && !request_cc.max_age && staleness <= *request_cc.max_stale) {
    return Usable::stale_allowed;
  }
  if (!request_cc.max_age && !request_cc.min_fresh && staleness < stored.stale_while_revalidate) {
    return Usable::stale_revalidating;
  }
  return Usable::must_revalidate;
}

}  // namespace collage::cache
