// The framework's own metric families, and the request series every front end counts into.

#include <fmt/format.h>

#include <mutex>

#include "collage/metrics.h"

namespace collage {

const MetricFamily kRequestsFamily{
    "collage_requests_total",
    "Requests answered, by front end, virtual host, store and status class.", MetricType::counter};
const MetricFamily kResponseBytesFamily{
    "collage_response_bytes_total",
    "Body bytes sent in answers, by front end, virtual host and store.", MetricType::counter};
const MetricFamily kRequestDurationFamily{
    "collage_request_duration_seconds",
    "From a request's arrival to the last byte of its answer handed to the kernel.",
    MetricType::histogram};
const MetricFamily kConnectionsFamily{"collage_connections_total",
                                      "Connections accepted, by listener and front end.",
                                      MetricType::counter};
const MetricFamily kOpenConnectionsFamily{"collage_connections_open",
                                          "Connections open now, by listener and front end.",
                                          MetricType::gauge};
const MetricFamily kConnectionStatesFamily{
    "collage_connections_in_state",
    "Open connections serving a request (busy) or waiting for the next one (keepalive), by "
    "listener and front end; the rest of collage_connections_open are reading a request.",
    MetricType::gauge};
const MetricFamily kTlsHandshakesFamily{"collage_tls_handshakes_total",
                                        "TLS handshakes by listener and result (ok or failed).",
                                        MetricType::counter};

namespace {

// A label value in exposition form: backslash, quote and line feed escaped.
void append_label_value(std::string_view value, std::string& out) {
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

std::mutex g_claiming;  // this process's misses, one at a time (other processes race safely)

}  // namespace

const RequestSeries* RequestSeriesCache::find(std::string_view protocol, std::string_view vhost,
                                              std::string_view store) const {
  // Front ends pass their name as a literal, so its address tells them apart.
  for (std::size_t i = 0; i < kSlots; ++i) {
    const char* key = keys_[i].load(std::memory_order_acquire);
    if (key == protocol.data()) {
      return &series_[i];
    }
    if (key == nullptr) {
      break;
    }
  }
  Metrics* metrics = running_metrics();
  if (metrics == nullptr) {
    return nullptr;
  }
  std::lock_guard lock(g_claiming);
  for (std::size_t i = 0; i < kSlots; ++i) {
    const char* key = keys_[i].load(std::memory_order_acquire);
    if (key == protocol.data()) {
      return &series_[i];
    }
    if (key != nullptr) {
      continue;
    }
    std::string labels = "protocol=\"";
    append_label_value(protocol, labels);
    labels += "\",vhost=\"";
    append_label_value(vhost, labels);
    labels += "\",store=\"";
    append_label_value(store, labels);
    labels += '"';
    RequestSeries& series = series_[i];
    series.bytes_sent = metrics->series(kResponseBytesFamily, labels);
    series.duration = metrics->series(kRequestDurationFamily, labels);
    static constexpr std::string_view kClasses[] = {"other", "1xx", "2xx", "3xx", "4xx", "5xx"};
    for (std::size_t c = 0; c < std::size(kClasses); ++c) {
      series.requests[c] =
          metrics->series(kRequestsFamily, fmt::format("{},code=\"{}\"", labels, kClasses[c]));
    }
    keys_[i].store(protocol.data(), std::memory_order_release);
    return &series;
  }
  return nullptr;  // more front ends than slots: not counted
}

void count_request(const RequestSeries& series, int status, std::uint64_t bytes_sent,
                   std::int64_t duration_us) {
  std::atomic<std::uint64_t>* row = metrics_row();
  if (row == nullptr) {
    return;
  }
  const int status_class = status >= 100 && status < 600 ? status / 100 : 0;
  if (const int at = series.requests[status_class]; at >= 0) {
    row[at].fetch_add(1, std::memory_order_relaxed);
  }
  if (series.bytes_sent >= 0) {
    row[series.bytes_sent].fetch_add(bytes_sent, std::memory_order_relaxed);
  }
  if (series.duration >= 0 && duration_us >= 0) {
    std::size_t bucket = 0;
    while (bucket < kDurationBuckets.size() &&
           static_cast<double>(duration_us) > kDurationBuckets[bucket] * 1e6) {
      ++bucket;
    }
    row[series.duration + bucket].fetch_add(1, std::memory_order_relaxed);
    row[series.duration + kDurationBuckets.size() + 1].fetch_add(
        static_cast<std::uint64_t>(duration_us), std::memory_order_relaxed);
  }
}

}  // namespace collage
