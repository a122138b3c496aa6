#include "status_charts.h"

#include <fmt/format.h>

#include <algorithm>

namespace collage::status {
namespace {

// One colour per protocol, readable on the light and the dark background alike.
constexpr std::string_view kColours[kProtocolKinds] = {"#1a73e8", "#d93025", "#188038", "#e37400",
                                                       "#9334e6"};
constexpr double kWidth = 600;
constexpr double kHeight = 150;

double value_at(const ProtocolPoint& point, ChartMeasure measure, std::size_t p) {
  switch (measure) {
    case ChartMeasure::requests: return point.requests_per_second[p];
    case ChartMeasure::bytes: return point.bytes_per_second[p];
    default: return point.connections[p];
  }
}

}  // namespace

std::string short_number(double value) {
  static constexpr std::string_view kUnits[] = {"", " k", " M", " G", " T"};
  std::size_t unit = 0;
  while (value >= 1000 && unit + 1 < std::size(kUnits)) {
    value /= 1000;
    ++unit;
  }
  return value >= 100 || unit == 0 ? fmt::format("{:.0f}{}", value, kUnits[unit])
                                   : fmt::format("{:.1f}{}", value, kUnits[unit]);
}

void append_chart(const ProtocolActivity& activity, ChartMeasure measure, std::string& out) {
  static constexpr std::string_view kTitles[] = {"Requests per second", "Bytes per second",
                                                 "Open connections"};
  const std::string_view title = kTitles[static_cast<std::size_t>(measure)];
  const std::int64_t newest = activity.points.empty() ? 0 : activity.points.back().second;
  // The window grows with the history, from a minute to kChartSeconds, so a fresh server's
  // first seconds are not a sliver at the right edge.
  const std::int64_t first = activity.points.empty() ? 0 : activity.points.front().second;
  const std::int64_t window =
      std::clamp<std::int64_t>(newest - first + 1, 60, static_cast<std::int64_t>(kChartSeconds));
  const std::int64_t oldest = newest - window;
  double top = 1;
  for (const ProtocolPoint& point : activity.points) {
    for (std::size_t p = 0; p < kProtocolKinds; ++p) {
      top = std::max(top, value_at(point, measure, p));
    }
  }
  auto to = std::back_inserter(out);
  fmt::format_to(to,
                 "<figure class=\"chart\" data-measure=\"{}\"><figcaption>{} <span "
                 "class=muted>(last {} s; top of the scale {})</span></figcaption>\n"
                 "<svg viewBox=\"0 0 {} {}\" preserveAspectRatio=\"none\" role=\"img\" "
                 "aria-label=\"{}\">\n<rect x=0 y=0 width={} height={} class=\"plot\"/>\n",
                 static_cast<int>(measure), title, window, short_number(top), kWidth, kHeight,
                 title, kWidth, kHeight);
  for (double fraction : {0.25, 0.5, 0.75}) {
    fmt::format_to(to, "<line x1=0 x2={} y1={:.1f} y2={:.1f} class=\"grid\"/>\n", kWidth,
                   kHeight * fraction, kHeight * fraction);
  }
  for (std::size_t p = 0; p < kProtocolKinds; ++p) {
    std::string points;
    bool any = false;
    for (const ProtocolPoint& point : activity.points) {
      const double value = value_at(point, measure, p);
      any = any || value > 0;
      if (point.second <= oldest) {
        continue;
      }
      const double x =
          static_cast<double>(point.second - oldest) / static_cast<double>(window) * kWidth;
      const double y = kHeight - value / top * (kHeight - 4) - 2;
      fmt::format_to(std::back_inserter(points), "{:.1f},{:.1f} ", x, y);
    }
    if (any) {
      fmt::format_to(to,
                     "<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\" "
                     "vector-effect=\"non-scaling-stroke\" points=\"{}\"/>\n",
                     kColours[p], points);
    }
  }
  out += "</svg>\n<ul class=\"legend\">";
  for (std::size_t p = 0; p < kProtocolKinds; ++p) {
    const double latest = measure == ChartMeasure::requests ? activity.recent_requests_per_second[p]
                          : measure == ChartMeasure::bytes  ? activity.recent_bytes_per_second[p]
                                                            : activity.now.connections[p];
    if (p == static_cast<std::size_t>(ProtocolKind::other) && latest == 0) {
      continue;
    }
    fmt::format_to(to,
                   "<li data-protocol=\"{}\"><span class=\"swatch\" style=\"background:{}\">"
                   "</span>{} <b class=\"value\">{}</b></li>",
                   protocol_kind_name(static_cast<ProtocolKind>(p)), kColours[p],
                   protocol_kind_name(static_cast<ProtocolKind>(p)), short_number(latest));
  }
  out += "</ul></figure>\n";
}

}  // namespace collage::status
