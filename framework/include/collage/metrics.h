#pragma once
// Metrics every child counts into shared memory and any child reads back, for the Prometheus
// endpoint and the status page. A series (a family and one set of labels) is named once in a
// table all processes share; each child then owns a row of plain counters, so counting is a
// relaxed add on memory no other process writes. A child that exits has its counters folded
// into a row of the exited (its gauges dropped), so totals never go backwards.
//
// Labels stay bounded: protocol, listener, virtual host, store, status class — never a path or
// a client address.

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace collage {

enum class MetricType : std::uint8_t { counter, gauge, histogram };

// One metric family, declared in a static table beside the code that counts it.
struct MetricFamily {
  std::string_view name;  // collage_requests_total
  std::string_view help;
  MetricType type = MetricType::counter;
};

// Upper bounds in seconds of every duration histogram's buckets (and +Inf).
inline constexpr std::array<double, 12> kDurationBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                         0.05,   0.1,   0.25,   1.0,   5.0,  30.0};

// The front ends the status page charts one by one; others count as "other".
enum class ProtocolKind : std::uint8_t { http1, http2, ftp, gopher, other };
inline constexpr std::size_t kProtocolKinds = 5;
std::string_view protocol_kind_name(ProtocolKind kind);
ProtocolKind protocol_kind(std::string_view name);

// Per second, the status page's charts: totals of each protocol, kept for the last minutes.
struct HistorySample {
  std::int64_t second = 0;
  std::uint64_t requests[kProtocolKinds] = {};
  std::uint64_t bytes[kProtocolKinds] = {};
  std::uint32_t connections[kProtocolKinds] = {};
  std::uint32_t busy[kProtocolKinds] = {};       // of them, serving a request
  std::uint32_t keepalive[kProtocolKinds] = {};  // waiting for the next request
};

class Metrics {
 public:
  static constexpr std::size_t kFamilies = 64;
  static constexpr std::size_t kSeries = 512;
  static constexpr std::size_t kValues = 4096;  // counters per child row
  static constexpr std::size_t kHistory = 300;  // seconds of history

  // Maps a shared region with one row per child slot; null if mmap fails.
  static std::unique_ptr<Metrics> create(std::uint32_t children);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // The first counter of the series of family with `labels` (already in exposition form,
  // `protocol="http1",vhost="a"`), claimed on first use in whichever process asks first; -1
  // when the table is full (the series is then not counted, and a counter says so).
  int series(const MetricFamily& family, std::string_view labels);

  // A child's row, where that child (and only it) adds.
  std::atomic<std::uint64_t>* row(std::uint32_t child) const;
  // Folds a dead child's counters into the exited row and clears its row for reuse.
  void retire_child(std::uint32_t child);

  // Sum of one counter over every child, living and exited.
  std::uint64_t total(int value) const;
  // Appends every family in the Prometheus text exposition format (version 0.0.4).
  void render(std::string& out) const;

  // Takes the sample for this second unless some process took it already.
  void sample_history(std::int64_t now_ms);
  // The samples of the last `seconds`, oldest first.
  std::size_t history(HistorySample* out, std::size_t seconds) const;

  // Per-protocol totals as the charts use them (requests, bytes, open connections).
  void protocol_totals(HistorySample& out) const;

 private:
  struct Region;
  Metrics() = default;
  std::uint64_t sum_values(int first, std::size_t width, std::uint64_t* out) const;
  void* memory_ = nullptr;
  std::size_t length_ = 0;
  std::uint32_t children_ = 0;
  Region* region_ = nullptr;
  std::atomic<std::uint64_t>* rows_ = nullptr;  // children_ + 1 rows; the last is the exited
};

// The metrics of the running server and this process's row in them; both null outside a
// running server (tests, -t), where counting is a no-op. set_metrics_child also names this
// process's scoreboard row (current_child_score, scoreboard.h).
Metrics* running_metrics();
void set_running_metrics(Metrics* metrics);
std::atomic<std::uint64_t>* metrics_row();
void set_metrics_child(std::uint32_t child);

// A series a module counts into, resolved on first use: `static MetricCounter resets{kFamily,
// "by=\"client\""}; resets.add();`. For a counter or a gauge (add with a negative amount).
class MetricCounter {
 public:
  MetricCounter(const MetricFamily& family, std::string_view labels)
      : family_(family), labels_(labels) {}
  void add(std::int64_t amount = 1);

 private:
  const MetricFamily& family_;
  std::string_view labels_;
  std::atomic<int> index_{-2};  // -2 not resolved yet, -1 not counted
};

// The counters of one request series: requests by status class, bytes each way and the
// duration histogram, under one set of labels (protocol, vhost, store).
struct RequestSeries {
  int requests[6] = {-1, -1, -1, -1, -1, -1};  // by class: other, 1xx … 5xx
  int bytes_sent = -1;
  int duration = -1;  // the histogram's first bucket
};

// Which series a location's requests count into, per front end; filled on first use.
class RequestSeriesCache {
 public:
  // The series for requests of `protocol` (a front end's name) answered by this location.
  const RequestSeries* find(std::string_view protocol, std::string_view vhost,
                            std::string_view store) const;

 private:
  static constexpr std::size_t kSlots = 6;
  mutable std::atomic<const char*> keys_[kSlots] = {};
  mutable RequestSeries series_[kSlots];
};

// The families the framework counts into.
extern const MetricFamily kRequestsFamily;
extern const MetricFamily kResponseBytesFamily;
extern const MetricFamily kRequestDurationFamily;
extern const MetricFamily kConnectionsFamily;
extern const MetricFamily kOpenConnectionsFamily;
extern const MetricFamily kConnectionStatesFamily;
extern const MetricFamily kTlsHandshakesFamily;

// Counts one finished request; a negative duration (not known) leaves the histogram alone.
void count_request(const RequestSeries& series, int status, std::uint64_t bytes_sent,
                   std::int64_t duration_us);

}  // namespace collage
