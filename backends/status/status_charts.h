#pragma once
// The status page's charts: inline SVG drawn on the server, so they need no script, no CDN and
// no font; each line is one protocol, and the legend says its latest value in words.

#include <string>

#include "protocol_activity.h"

namespace collage::status {

enum class ChartMeasure { requests, bytes, connections };

void append_chart(const ProtocolActivity& activity, ChartMeasure measure, std::string& out);

// "12.3 k", "4.5 M": a rate or a size made short for a legend.
std::string short_number(double value);

}  // namespace collage::status
