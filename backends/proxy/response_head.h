#pragma once
// An upstream's response head (RFC 9112 §4, §5): the status line and the header fields, up to
// the empty line, with the framing of the body that follows (§6.3). Strict where a lenient
// reading would let a response smuggle another (whitespace before a colon, obsolete line
// folding, conflicting Content-Length values, Transfer-Encoding other than chunked last).

#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace collage::proxy {

inline constexpr std::size_t kMaxResponseHead = 64 * 1024;
inline constexpr std::size_t kMaxResponseFields = 200;

enum class BodyKind : std::uint8_t { none, length, chunked, until_close };

struct ResponseHead {
  int status = 0;
  int minor_version = 1;
  std::vector<std::pair<std::string_view, std::string_view>> fields;  // views into the input
  BodyKind body = BodyKind::until_close;
  std::uint64_t length = 0;  // BodyKind::length
  bool keep_alive = true;    // the connection may carry another request afterwards
};

enum class HeadParse : std::uint8_t { done, need_more, bad };

// Parses the head at the start of `input`; on done, `consumed` is its size with the empty line.
// `head_request`: the response to a HEAD has no body whatever its fields say.
HeadParse parse_response_head(std::string_view input, bool head_request, ResponseHead& head,
                              std::size_t& consumed);

// Whether a field is hop-by-hop (RFC 9110 §7.6.1): never forwarded. `connection` is the
// message's Connection field value, whose listed names are hop-by-hop too.
bool is_hop_by_hop(std::string_view name, std::string_view connection);

// Whether a comma-separated field value (Connection, Upgrade) lists token, in any case.
bool has_token(std::string_view value, std::string_view token);

}  // namespace collage::proxy
