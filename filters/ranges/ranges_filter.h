#pragma once
// Byte ranges (RFC 9110 §14) as a transform filter: one range → 206 with Content-Range, several →
// multipart/byteranges, none satisfiable → 416. Works on the whole body by slicing its brigade,
// so file ranges still go out with sendfile; a streamed body is buffered up to FilterBufferLimit
// and sent whole (200) beyond it, as the RFC allows.

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "collage/filter.h"

namespace collage::ranges {

struct ByteRange {
  std::uint64_t first = 0;
  std::uint64_t last = 0;  // inclusive
};

enum class RangeParse : std::uint8_t {
  ignore,         // not a bytes range or malformed: serve the whole entity
  unsatisfiable,  // well-formed, but nothing overlaps the entity: 416
  ok,
};

// Parses a Range header value against an entity of `length` bytes. At most max_ranges ranges;
// more than that is treated as malformed (ignored), which also defuses many-small-ranges abuse.
RangeParse parse_range(std::string_view value, std::uint64_t length, std::size_t max_ranges,
                       std::vector<ByteRange>& out);

class RangesFilter final : public Filter {
 public:
  FilterStatus start(RequestContext& ctx, Entity& entity,
                     std::unique_ptr<FilterInstance>& instance) const override;
};

}  // namespace collage::ranges
