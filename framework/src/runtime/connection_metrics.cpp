#include "connection_metrics.h"

#include <fmt/format.h>

#include <map>
#include <mutex>
#include <string>

#include "collage/metrics.h"

namespace collage {

namespace {

// Listener labels are few (one per configured listener and front end); a map under a lock is
// plenty at accept's rate, and outlives any generation, unlike a pointer to its Listener.
std::mutex g_lock;
std::map<std::string, ConnectionSeries, std::less<>> g_series;

}  // namespace

const ConnectionSeries* connection_series(std::string_view address, std::uint16_t port,
                                          std::string_view protocol, bool tls) {
  Metrics* metrics = running_metrics();
  if (metrics == nullptr || metrics_row() == nullptr) {
    return nullptr;
  }
  thread_local std::string labels;
  labels.clear();
  const bool v6 = address.find(':') != std::string_view::npos;
  fmt::format_to(std::back_inserter(labels), "protocol=\"{}\",listener=\"{}{}{}:{}\"", protocol,
                 v6 ? "[" : "", address, v6 ? "]" : "", port);
  std::lock_guard lock(g_lock);
  if (auto it = g_series.find(labels); it != g_series.end()) {
    return &it->second;
  }
  ConnectionSeries series;
  series.accepted = metrics->series(kConnectionsFamily, labels);
  series.open = metrics->series(kOpenConnectionsFamily, labels);
  series.busy = metrics->series(kConnectionStatesFamily, labels + ",state=\"busy\"");
  series.keepalive = metrics->series(kConnectionStatesFamily, labels + ",state=\"keepalive\"");
  if (tls) {
    series.tls_ok = metrics->series(kTlsHandshakesFamily, labels + ",result=\"ok\"");
    series.tls_failed = metrics->series(kTlsHandshakesFamily, labels + ",result=\"failed\"");
  }
  return &g_series.emplace(labels, series).first->second;
}

void count_connection(int at, std::int64_t amount) {
  std::atomic<std::uint64_t>* row = metrics_row();
  if (row != nullptr && at >= 0) {
    row[at].fetch_add(static_cast<std::uint64_t>(amount), std::memory_order_relaxed);
  }
}

void OpenConnection::start(const ConnectionSeries* series) {
  if (series != nullptr && open_ < 0) {
    open_ = series->open;
    count_connection(series->accepted);
    count_connection(open_);
  }
}

}  // namespace collage
