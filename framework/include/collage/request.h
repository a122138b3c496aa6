#pragma once
// The protocol-neutral request. A front end fills it; the middle end routes it; a store answers
// it. Views (string_view) point into storage the front end keeps alive until the response has been
// written; the owning strings are reused between requests of one connection.

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "collage/asio.h"
#include "collage/metadata.h"
#include "collage/method.h"

namespace collage {

struct Location;
struct VirtualHost;

// What went wrong while reading a request body; each maps to one HTTP status.
enum class BodyError : std::uint8_t {
  none,
  too_large,  // 413
  malformed,  // 400: bad chunk framing
  timeout,    // 408
  closed,     // the peer went away; nobody to answer
};

// The status a store answers with when reading the body failed (0 for none and closed).
constexpr int body_error_status(BodyError error) {
  switch (error) {
    case BodyError::too_large: return 413;
    case BodyError::malformed: return 400;
    case BodyError::timeout: return 408;
    default: return 0;
  }
}

struct BodyRead {
  std::size_t bytes = 0;  // 0 with error == none: the body is complete
  BodyError error = BodyError::none;
};

// A request body as the front end delivers it (de-chunked, limited, with timeouts applied).
// Called by a store on the connection's own executor; read() may suspend.
class BodySource {
 public:
  virtual ~BodySource() = default;
  // Reads up to into.size() bytes. Sends "100 Continue" first if the client asked for it, so a
  // store that answers without reading the body never invites the client to send it.
  virtual Task<BodyRead> read(std::span<char> into) = 0;
  // Content-Length when the client declared one; empty for chunked bodies.
  virtual std::optional<std::uint64_t> declared_length() const = 0;
};

struct Listener;

struct PeerInfo {
  std::string address;  // textual IP address of the client; "unix:" on a Unix-domain socket
  std::uint16_t port = 0;
  std::string local_address;
  std::uint16_t local_port = 0;
  const Listener* listener = nullptr;  // the listener that accepted the connection
  // On a Unix-domain socket: the connecting process's user (SO_PEERCRED); -1 elsewhere.
  std::int64_t unix_uid = -1;
};

struct Request {
  std::string_view protocol;  // front end name: "http1", "h2", "ftp", "gopher"
  Method method = Method::get;
  std::string_view method_token;  // as the client spelled it
  std::string_view target;        // the raw request target, as sent
  std::string path;               // percent-decoded, dot segments removed, always starts with '/'
  std::string_view query;         // raw query, without '?'
  std::string_view host;          // lower-cased host name without port, for virtual hosts
  MetadataView headers;
  BodySource* body = nullptr;  // null when the request has no body
  const PeerInfo* peer = nullptr;
  bool secure = false;  // arrived over TLS
  std::string user;     // authenticated identity, empty for anonymous
  // PUT only: keep the current content's first write_offset bytes and write the body after
  // them (FTP REST + STOR, APPE). Empty: replace the whole content.
  std::optional<std::uint64_t> write_offset;
  // GET only: the body from this byte on (FTP REST + RETR, any resumed download). The middle end
  // applies it to whatever a store answers, so no store and no filter has to know it.
  std::optional<std::uint64_t> read_offset;
  std::string destination;  // rename: the normalized path to move the target to
  // What query points into after a rewrite changed it (the target keeps what the client sent).
  std::string rewritten_query;
  std::chrono::system_clock::time_point received;
  // Where route() sent the request last (after rewrites); null until it is routed.
  const VirtualHost* routed_host = nullptr;
  const Location* routed_location = nullptr;
  // Names this request where a person may quote it back (error pages); 16 hex digits, set by
  // assign_id(), unique across the server's processes and threads with high probability.
  std::array<char, 16> id{};
  // How many internal requests deep this is: 0 for what a client sent, 1 for a CGI's local
  // redirect or an SSI include made by it, and so on (respond_internal bounds it).
  std::uint8_t depth = 0;
  // An internal lookup of what a store holds (SSI fsize, flastmod): the store's head as it made
  // it, without the filters.
  bool store_only = false;
  // RequestRatePerAddress, decided once per request (before the quick path, or in route()).
  enum class Rate : std::uint8_t { unchecked, within, over };
  Rate rate = Rate::unchecked;

  void assign_id();
  std::string_view id_text() const { return {id.data(), id.size()}; }

  void reset() {
    method = Method::get;
    method_token = {};
    target = {};
    path.clear();
    query = {};
    host = {};
    headers.clear();
    body = nullptr;
    secure = false;
    user.clear();
    write_offset.reset();
    read_offset.reset();
    destination.clear();
    rewritten_query.clear();
    depth = 0;
    store_only = false;
    rate = Rate::unchecked;
    routed_host = nullptr;
    routed_location = nullptr;
  }
};

}  // namespace collage
