#pragma once
// Per-protocol activity for the status page and its JSON: totals now, and per-second rates over
// the last minutes from the history the children sample into shared memory (metrics.h).

#include <cstdint>
#include <vector>

#include "collage/metrics.h"

namespace collage::status {

struct ProtocolPoint {
  std::int64_t second = 0;
  double requests_per_second[kProtocolKinds] = {};
  double bytes_per_second[kProtocolKinds] = {};
  std::uint32_t connections[kProtocolKinds] = {};
};

struct ProtocolActivity {
  HistorySample now;                  // totals at this moment
  std::vector<ProtocolPoint> points;  // oldest first, one per sampled second
  // Averages over the last `recent` seconds of points (0 when none).
  double recent_requests_per_second[kProtocolKinds] = {};
  double recent_bytes_per_second[kProtocolKinds] = {};
};

inline constexpr std::size_t kChartSeconds = 300;

ProtocolActivity protocol_activity(const Metrics& metrics, std::size_t recent = 10);

}  // namespace collage::status
