#pragma once
// CORS (the Fetch standard's cross-origin checks): preflight OPTIONS requests are answered in the
// rewrite phase, before access checks (a browser sends no credentials with them); allowed
// origins get Access-Control-* fields on the actual response.

#include <chrono>
#include <string>
#include <vector>

#include "collage/entity.h"
#include "collage/request.h"
#include "collage/site_rules.h"

namespace collage::headers {

struct CorsPolicy {
  std::vector<std::string> origins;        // exact origins ("https://a.example"), or "*"
  std::string methods;                     // for Access-Control-Allow-Methods
  std::vector<std::string> allow_headers;  // "*" echoes what the preflight asks for
  std::string expose_headers;
  bool credentials = false;
  std::chrono::seconds max_age{0};

  bool enabled() const { return !origins.empty(); }
  // The Access-Control-Allow-Origin value for origin, or empty when it is not allowed.
  std::string_view allowed_origin(std::string_view origin) const;
};

// Answers a preflight (OPTIONS with Origin and Access-Control-Request-Method); false otherwise.
bool answer_preflight(const CorsPolicy& policy, const Request& request, RouteAnswer& answer);
// Adds the fields an actual cross-origin response carries.
void add_cors_fields(const CorsPolicy& policy, const Request& request, Entity& out);

}  // namespace collage::headers
