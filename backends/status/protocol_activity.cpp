#include "protocol_activity.h"

namespace collage::status {

ProtocolActivity protocol_activity(const Metrics& metrics, std::size_t recent) {
  ProtocolActivity activity;
  metrics.protocol_totals(activity.now);
  std::vector<HistorySample> samples(Metrics::kHistory);
  samples.resize(metrics.history(samples.data(), kChartSeconds + 1));
  for (std::size_t i = 1; i < samples.size(); ++i) {
    const HistorySample& a = samples[i - 1];
    const HistorySample& b = samples[i];
    const double seconds = static_cast<double>(b.second - a.second);
    ProtocolPoint point;
    point.second = b.second;
    for (std::size_t p = 0; p < kProtocolKinds; ++p) {
      // A counter is never lower later; if it looks so (a torn read) the point shows 0.
      point.requests_per_second[p] =
          b.requests[p] >= a.requests[p]
              ? static_cast<double>(b.requests[p] - a.requests[p]) / seconds
              : 0.0;
      point.bytes_per_second[p] =
          b.bytes[p] >= a.bytes[p] ? static_cast<double>(b.bytes[p] - a.bytes[p]) / seconds : 0.0;
      point.connections[p] = b.connections[p];
    }
    activity.points.push_back(point);
  }
  if (!samples.empty()) {
    const std::int64_t newest = samples.back().second;
    for (auto it = samples.rbegin(); it != samples.rend(); ++it) {
      if (newest - it->second > static_cast<std::int64_t>(recent) || &*it == &samples.front()) {
        const double seconds = static_cast<double>(newest - it->second);
        const HistorySample& last = samples.back();
        for (std::size_t p = 0; p < kProtocolKinds && seconds > 0; ++p) {
          activity.recent_requests_per_second[p] =
              last.requests[p] >= it->requests[p]
                  ? static_cast<double>(last.requests[p] - it->requests[p]) / seconds
                  : 0.0;
          activity.recent_bytes_per_second[p] =
              last.bytes[p] >= it->bytes[p]
                  ? static_cast<double>(last.bytes[p] - it->bytes[p]) / seconds
                  : 0.0;
        }
        break;
      }
    }
  }
  return activity;
}

}  // namespace collage::status
