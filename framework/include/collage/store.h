#pragma once
// A store produces entities: files on disk, CGI output, a proxied upstream, rows in a database.
// One instance per location per configuration generation; immutable after construction and
// shared by every thread, so per-request state lives on the coroutine's stack.

#include <string>
#include <vector>

#include "collage/asio.h"
#include "collage/entity.h"
#include "collage/method.h"
#include "collage/request.h"

namespace collage {

struct RequestContext;
struct Location;

// What a URL path names in a store that keeps files (try-files, rewrite conditions).
enum class PathKind : std::uint8_t { none, file, directory };

class Store {
 public:
  virtual ~Store() = default;

  // Methods this store answers. The middle end answers 405 with an Allow header for the rest, and
  // answers OPTIONS itself; a store never sees a method outside this set.
  virtual MethodSet methods() const = 0;

  // Fills `out` for ctx.request. Called on the connection's executor; may suspend (reading a
  // request body, waiting for blocking work it offloaded). Failures are statuses in `out`, never
  // exceptions. Bodies should be file buckets where the data is a file, so front ends can sendfile.
  virtual Task<void> handle(RequestContext& ctx, Entity& out) const = 0;

  // Directories clients can write into through this store (uploads over FTP, HTTP PUT).
  virtual std::vector<std::string> writable_trees() const { return {}; }
  // Directories this store runs programs from (CGI scripts). The configuration is refused when
  // one lies inside a writable tree of any store, or holds one: a client could upload a program
  // and run it. A store that is told to allow that returns none.
  virtual std::vector<std::string> program_trees() const { return {}; }

  // Called in each new child process while it still has the rights it started with, before it
  // drops them (User, Group): a store that needs root later starts a helper here (CgiUser).
  // Logs and carries on when it cannot; the store then answers what it can.
  virtual void prepare_child() const {}

  // What ctx.request resolves to in this store (a file's path, a script with its query), the
  // same whichever protocol, location or host asked: the cache keys store-point entries by it, so
  // they are shared by every front end. Empty when the store cannot say (the URL is used then).
  virtual std::string resource_key(const RequestContext& /*ctx*/) const { return {}; }

  // For the rewrite phase, before any request runs here: what the URL path names when it is
  // served at `location`, checked as handle() would open it; none for a store without files.
  // Called on the connection's thread; may block briefly on the file system (a stat).
  virtual PathKind path_kind(const Location& /*location*/, std::string_view /*path*/) const {
    return PathKind::none;
  }
  // The file system path the URL path maps to (a rewrite condition's REQUEST_FILENAME); empty
  // for a store without files.
  virtual std::string file_path(const Location& /*location*/, std::string_view /*path*/) const {
    return {};
  }
};

}  // namespace collage
