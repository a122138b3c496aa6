#include "cors.h"

#include <algorithm>

#include "collage/middle_end.h"

namespace collage::headers {

std::string_view CorsPolicy::allowed_origin(std::string_view origin) const {
  if (origin.empty()) {
    return {};
  }
  for (const std::string& allowed : origins) {
    if (allowed == "*") {
      // With credentials the Fetch standard refuses "*": the origin itself is named.
      return credentials ? origin : std::string_view("*");
    }
    if (iequals(allowed, origin)) {
      return origin;
    }
  }
  return {};
}

bool answer_preflight(const CorsPolicy& policy, const Request& request, RouteAnswer& answer) {
  if (request.method != Method::options ||
      !request.headers.contains("Access-Control-Request-Method")) {
    return false;
  }
  const std::string_view origin = policy.allowed_origin(request.headers.get("Origin"));
  if (origin.empty()) {
    return false;  // not ours to allow: OPTIONS is answered as usual, without CORS fields
  }
  answer.status = 204;
  answer.headers.emplace_back("Access-Control-Allow-Origin", std::string(origin));
  answer.headers.emplace_back("Access-Control-Allow-Methods", policy.methods);
  std::string allow_headers;
  for (const std::string& name : policy.allow_headers) {
    if (name == "*") {
      allow_headers = request.headers.get("Access-Control-Request-Headers");
      break;
    }
    allow_headers += allow_headers.empty() ? "" : ", ";
    allow_headers += name;
  }
  if (!allow_headers.empty()) {
    answer.headers.emplace_back("Access-Control-Allow-Headers", std::move(allow_headers));
  }
  if (policy.credentials) {
    answer.headers.emplace_back("Access-Control-Allow-Credentials", "true");
  }
  if (policy.max_age.count() > 0) {
    answer.headers.emplace_back("Access-Control-Max-Age", std::to_string(policy.max_age.count()));
  }
  answer.headers.emplace_back(
      "Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers");
  return true;
}

void add_cors_fields(const CorsPolicy& policy, const Request& request, Entity& out) {
  const bool any_origin =
      std::find(policy.origins.begin(), policy.origins.end(), "*") != policy.origins.end();
  if (!any_origin || policy.credentials) {
    add_vary(out, "Origin");  // the answer depends on who asks: a cache must keep them apart
  }
  const std::string_view origin = policy.allowed_origin(request.headers.get("Origin"));
  if (origin.empty()) {
    return;
  }
  out.headers.set("Access-Control-Allow-Origin", std::string(origin));
  if (policy.credentials) {
    out.headers.set("Access-Control-Allow-Credentials", "true");
  }
  if (!policy.expose_headers.empty()) {
    out.headers.set("Access-Control-Expose-Headers", policy.expose_headers);
  }
}

}  // namespace collage::headers
