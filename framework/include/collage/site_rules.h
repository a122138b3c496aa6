#pragma once
// Site rules: what a location does to a request and its response besides the store's work
// (redirects, rewrites, try-files, CORS, response headers, expiry, error documents). Each site
// module builds one SiteRules per location that uses its directives; the middle end calls every
// location's rules, in module registration order, at these points:
//   rewrite      in route(), after a location is picked and before the access phase: may change
//                the request's path and query (the router then picks a location again), or
//                answer it (a redirect, 403, a CORS preflight)
//   before store after the access phase: request headers for the store (upstreams, CGI)
//   store head   after the store (or a cache hit's stored copy is used instead), before the cache
//                store phase: what the cache should keep too (Expires, Cache-Control)
//   error        once the response is final and is an error: may replace it (an error document)
//   final head   last: the head as it goes out (response headers, HSTS)
// Rules are immutable and shared by every thread, like stores.

#include <string>
#include <utility>
#include <vector>

#include "collage/asio.h"
#include "collage/entity.h"
#include "collage/request.h"

namespace collage {

struct Location;
struct RequestContext;
class Generation;

// An answer the rewrite phase gives instead of running the location (status 0: none).
struct RouteAnswer {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // Location, Access-Control-*, …
};

enum class RewriteStep : std::uint8_t {
  next,         // nothing to do here, or the request was changed and the location stays
  reroute,      // the path changed: pick the location again (an internal redirect)
  reroute_end,  // the same, and the new location's rewrite rules are not run (Apache's END)
  answered      // answer holds the response
};

// What the rewrite phase sees. Rules change request.path (decoded, normalized) and, through
// set_query(), the query.
struct RewriteContext {
  Request& request;
  const Location& location;
  const Generation& generation;
  RouteAnswer& answer;
  // A named location ("@front") to go to instead of routing the path; set with reroute.
  std::string& named_location;
  // Lines for `collage --explain`; null when nobody asks.
  std::vector<std::string>* trace;
  // Storage the request's query view points into after a rewrite.
  std::string& query_storage;

  void set_query(std::string query) {
    query_storage = std::move(query);
    request.query = query_storage;
  }
};

class SiteRules {
 public:
  virtual ~SiteRules() = default;
  // The rewrite phase. Synchronous: it may look at the file system (a stat), nothing slower.
  virtual RewriteStep rewrite(RewriteContext& /*ctx*/) const { return RewriteStep::next; }
  // Before the store: may change request headers (their text must outlive the request, e.g. the
  // configuration's own strings).
  virtual void before_store(RequestContext& /*ctx*/) const {}
  // The store's head, before the cache store phase sees it.
  virtual void store_head(RequestContext& /*ctx*/, Entity& /*out*/) const {}
  // A final error response (status >= 400) of a client's request; may replace it and may
  // suspend (an internal request for the error page).
  virtual bool handles_errors() const { return false; }
  virtual Task<void> error_response(RequestContext& /*ctx*/, Entity& /*out*/) const { co_return; }
  // The head as it goes out.
  virtual void final_head(RequestContext& /*ctx*/, Entity& /*out*/) const {}
  // False when a cache hit answered before routing (the quick path) would skip what these rules
  // do; the quick path then leaves the location alone.
  virtual bool quick_path_safe() const { return false; }
};

}  // namespace collage
