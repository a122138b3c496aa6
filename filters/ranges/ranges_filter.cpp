#include "ranges_filter.h"

#include <fmt/format.h>

#include <random>

#include "collage/conditional.h"
#include "collage/http_date.h"
#include "collage/metadata.h"
#include "collage/middle_end.h"
#include "collage/registry.h"

namespace collage::ranges {
namespace {

constexpr std::size_t kMaxRanges = 100;

bool parse_number(std::string_view text, std::uint64_t& out) {
  if (text.empty() || text.size() > 19) {
    return false;
  }
  out = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return false;
    }
    out = out * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return true;
}

// One random boundary per process, so its content-type string lives as long as any response.
const std::string& boundary() {
  static const std::string value = [] {
    std::random_device random;
    return fmt::format("collage-{:08x}{:08x}", random(), random());
  }();
  return value;
}

const std::string& multipart_type() {
  static const std::string value = "multipart/byteranges; boundary=" + boundary();
  return value;
}

// If-Range (RFC 9110 §13.1.5): ranges apply only if the validator still matches exactly.
bool if_range_allows(const Request& request, const Entity& entity) {
  if (!request.headers.contains("If-Range")) {
    return true;
  }
  const std::string_view value = trim_ows(request.headers.get("If-Range"));
  if (value.starts_with('"') || value.starts_with("W/")) {
    return !value.starts_with("W/") && !entity.etag.empty() && !entity.etag.starts_with("W/") &&
           value == entity.etag;
  }
  const auto date = parse_http_date(value);
  return date && entity.last_modified && *date == *entity.last_modified;
}

}  // namespace

RangeParse parse_range(std::string_view value, std::uint64_t length, std::size_t max_ranges,
                       std::vector<ByteRange>& out) {
  out.clear();
  value = trim_ows(value);
  if (!istarts_with(value, "bytes=")) {
    return RangeParse::ignore;
  }
  value.remove_prefix(6);
  std::size_t specs = 0;
  while (true) {
    const std::size_t comma = value.find(',');
    const std::string_view spec = trim_ows(value.substr(0, comma));
    if (!spec.empty()) {
      if (++specs > max_ranges) {
        return RangeParse::ignore;
      }
      const std::size_t dash = spec.find('-');
      if (dash == std::string_view::npos) {
        return RangeParse::ignore;
      }
      const std::string_view first_text = spec.substr(0, dash);
      const std::string_view last_text = spec.substr(dash + 1);
      std::uint64_t first = 0;
      std::uint64_t last = 0;
      if (first_text.empty()) {
        // suffix-range: the final N bytes
        if (!parse_number(last_text, last)) {
          return RangeParse::ignore;
        }
        if (last > 0 && length > 0) {
          out.push_back({length > last ? length - last : 0, length - 1});
        }
      } else {
        if (!parse_number(first_text, first)) {
          return RangeParse::ignore;
        }
        if (last_text.empty()) {
          last = length == 0 ? 0 : length - 1;
        } else if (!parse_number(last_text, last) || last < first) {
          return RangeParse::ignore;
        }
        if (first < length) {
          out.push_back({first, std::min(last, length - 1)});
        }
      }
    }
    if (comma == std::string_view::npos) {
      break;
    }
    value.remove_prefix(comma + 1);
  }
  if (specs == 0) {
    return RangeParse::ignore;
  }
  return out.empty() ? RangeParse::unsatisfiable : RangeParse::ok;
}

FilterStatus RangesFilter::start(RequestContext& ctx, Entity& entity,
                                 std::unique_ptr<FilterInstance>&) const {
  const Request& request = ctx.request;
  if (!if_range_allows(request, entity)) {
    return FilterStatus::pass;
  }
  const std::uint64_t length = *entity.length;
  thread_local std::vector<ByteRange> ranges;
  switch (parse_range(request.headers.get("Range"), length, kMaxRanges, ranges)) {
    case RangeParse::ignore: return FilterStatus::pass;
    case RangeParse::unsatisfiable: {
      std::string etag = std::move(entity.etag);
      const auto modified = entity.last_modified;
      entity.set_error(416);
      entity.etag = std::move(etag);
      entity.last_modified = modified;
      entity.headers.add("Content-Range", fmt::format("bytes */{}", length));
      return FilterStatus::error;
    }
    case RangeParse::ok: break;
  }
  entity.status = 206;
  if (ranges.size() == 1) {
    const ByteRange r = ranges.front();
    entity.body = entity.body.slice(r.first, r.last - r.first + 1);
    entity.length = r.last - r.first + 1;
    entity.headers.add("Content-Range", fmt::format("bytes {}-{}/{}", r.first, r.last, length));
    return FilterStatus::pass;
  }
  Brigade parts;
  std::uint64_t total = 0;
  for (const ByteRange& r : ranges) {
    std::string part_head =
        fmt::format("\r\n--{}\r\nContent-Type: {}\r\nContent-Range: bytes {}-{}/{}\r\n\r\n",
                    boundary(), entity.content_type, r.first, r.last, length);
    total += part_head.size() + (r.last - r.first + 1);
    parts.append_owned(std::move(part_head));
    const Brigade piece = entity.body.slice(r.first, r.last - r.first + 1);
    for (const Bucket& b : piece.buckets()) {
      parts.append(b);
    }
  }
  std::string tail = fmt::format("\r\n--{}--\r\n", boundary());
  total += tail.size();
  parts.append_owned(std::move(tail));
  entity.body = std::move(parts);
  entity.length = total;
  entity.content_type = multipart_type();
  return FilterStatus::pass;
}

void register_module(Registry& registry) {
  registry.add_module({"ranges", ModuleKind::filter, "byte ranges and multipart/byteranges"});
  FilterRegistration filter;
  filter.name = "ranges";
  filter.capabilities.stage = FilterStage::transform;
  filter.capabilities.methods = MethodSet{Method::get};
  filter.capabilities.statuses = {200};
  filter.capabilities.request_header = "Range";
  filter.capabilities.needs_whole_body = true;
  filter.capabilities.over_limit = OverLimit::skip;
  filter.on_by_default = true;
  filter.factory = [](const Scope&, ConfigErrors&) { return std::make_unique<RangesFilter>(); };
  registry.add_filter(std::move(filter));
}

}  // namespace collage::ranges
