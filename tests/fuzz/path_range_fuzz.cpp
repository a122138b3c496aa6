// Fuzzes path normalization (every front end's way from a raw target to a path) and the Range
// parser. Invariants: a normalized path starts with '/', has no empty, "." or ".." segment (in
// either mode); every byte range lies inside the entity, first ≤ last, at most max_ranges.

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "collage/path.h"
#include "ranges_filter.h"

namespace {

void check_path(const std::string& path) {
  if (path.empty() || path[0] != '/') {
    std::abort();
  }
  std::size_t start = 1;
  while (start <= path.size()) {
    const std::size_t slash = std::min(path.find('/', start), path.size());
    const std::string_view segment = std::string_view(path).substr(start, slash - start);
    const bool last = slash == path.size();
    if (segment == "." || segment == ".." || (segment.empty() && !last)) {
      std::abort();
    }
    start = slash + 1;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (const collage::AboveRoot mode : {collage::AboveRoot::refuse, collage::AboveRoot::stay}) {
    std::string out;
    if (collage::normalize_path(input, out, mode) == collage::PathResult::ok) {
      check_path(out);
    }
  }
  const std::uint64_t length = size == 0 ? 0 : static_cast<std::uint64_t>(data[0]) * 977;
  std::vector<collage::ranges::ByteRange> ranges;
  if (collage::ranges::parse_range(input, length, 8, ranges) == collage::ranges::RangeParse::ok) {
    if (ranges.empty() || ranges.size() > 8) {
      std::abort();
    }
    for (const auto& range : ranges) {
      if (range.first > range.last || range.last >= length) {
        std::abort();
      }
    }
  }
  return 0;
}
