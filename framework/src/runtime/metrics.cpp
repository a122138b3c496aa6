#include "collage/metrics.h"

#include "collage/scoreboard.h"

#include <sys/mman.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <new>

namespace collage {

namespace {

// Slots are claimed without a lock another process could die holding: free → being named →
// named. Every process scans in one order and waits at a slot being named, so two processes
// asking for the same name always settle on the same slot.
enum SlotState : std::uint32_t { kFree = 0, kNaming = 1, kNamed = 2 };

// What the status page's charts and protocol table sum, by series.
enum class ChartRole : std::uint8_t { none, requests, bytes, connections, busy, keepalive };

ChartRole chart_role(std::string_view family, std::string_view labels) {
  if (family == "collage_requests_total") {
    return ChartRole::requests;
  }
  if (family == "collage_response_bytes_total") {
    return ChartRole::bytes;
  }
  if (family == "collage_connections_open") {
    return ChartRole::connections;
  }
  if (family == "collage_connections_in_state") {
    return labels.find("state=\"busy\"") != std::string_view::npos ? ChartRole::busy
                                                                   : ChartRole::keepalive;
  }
  return ChartRole::none;
}

std::size_t type_width(MetricType type) {
  // A histogram keeps each bucket (not cumulative; the +Inf one last) and its sum in µs.
  return type == MetricType::histogram ? kDurationBuckets.size() + 2 : 1;
}

std::string_view type_name(MetricType type) {
  switch (type) {
    case MetricType::gauge: return "gauge";
    case MetricType::histogram: return "histogram";
    default: return "counter";
  }
}

void copy_name(char* out, std::size_t size, std::string_view text) {
  const std::size_t n = std::min(size - 1, text.size());
  std::memcpy(out, text.data(), n);
  out[n] = '\0';
}

void wait_while_naming(const std::atomic<std::uint32_t>& state) {
  while (state.load(std::memory_order_acquire) == kNaming) {
  }
}

Metrics* g_metrics = nullptr;
std::atomic<std::uint64_t>* g_row = nullptr;
std::uint32_t g_child = 0;
bool g_in_child = false;

}  // namespace

struct Metrics::Region {
  struct Family {
    std::atomic<std::uint32_t> state{kFree};
    MetricType type = MetricType::counter;
    char name[64] = {};
    char help[192] = {};
  };
  struct Series {
    std::atomic<std::uint32_t> state{kFree};
    std::uint16_t family = 0;
    ProtocolKind protocol = ProtocolKind::other;
    ChartRole role = ChartRole::none;
    std::int32_t first = -1;  // -1: out of counters, not counted
    char labels[184] = {};
  };
  std::atomic<std::uint32_t> next_value{0};
  std::atomic<std::uint32_t> retiring{0};  // odd while a child's row is being folded
  std::atomic<std::int64_t> last_sample{0};
  Family families[kFamilies];
  Series series[kSeries];
  HistorySample history[kHistory];
};

std::string_view protocol_kind_name(ProtocolKind kind) {
  static constexpr std::string_view kNames[] = {"http1", "http2", "ftp", "gopher", "other"};
  return kNames[static_cast<std::size_t>(kind)];
}

ProtocolKind protocol_kind(std::string_view name) {
  for (std::size_t i = 0; i + 1 < kProtocolKinds; ++i) {
    if (protocol_kind_name(static_cast<ProtocolKind>(i)) == name) {
      return static_cast<ProtocolKind>(i);
    }
  }
  return ProtocolKind::other;
}

std::unique_ptr<Metrics> Metrics::create(std::uint32_t children) {
  const std::size_t region_bytes = (sizeof(Region) + 63) / 64 * 64;
  const std::size_t row_bytes = sizeof(std::atomic<std::uint64_t>) * kValues;
  const std::size_t length = region_bytes + row_bytes * (std::size_t{children} + 1);
  void* memory = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) {
    return nullptr;
  }
  std::unique_ptr<Metrics> metrics(new Metrics);
  metrics->memory_ = memory;
  metrics->length_ = length;
  metrics->children_ = children;
  auto* bytes = static_cast<std::byte*>(memory);
  metrics->region_ = new (bytes) Region;
  // Anonymous shared pages start zeroed, which is what a row of atomics holds at rest.
  metrics->rows_ = reinterpret_cast<std::atomic<std::uint64_t>*>(bytes + region_bytes);
  return metrics;
}

Metrics::~Metrics() {
  if (memory_ != nullptr) {
    ::munmap(memory_, length_);
  }
}

int Metrics::series(const MetricFamily& family, std::string_view labels) {
  if (family.name.size() >= sizeof(Region::Family::name) ||
      labels.size() >= sizeof(Region::Series::labels)) {
    return -1;
  }
  std::size_t family_index = kFamilies;
  for (std::size_t i = 0; i < kFamilies && family_index == kFamilies; ++i) {
    Region::Family& f = region_->families[i];
    std::uint32_t state = f.state.load(std::memory_order_acquire);
    if (state == kFree && f.state.compare_exchange_strong(state, kNaming)) {
      f.type = family.type;
      copy_name(f.name, sizeof f.name, family.name);
      copy_name(f.help, sizeof f.help, family.help);
      f.state.store(kNamed, std::memory_order_release);
    }
    wait_while_naming(f.state);
    if (std::string_view(f.name) == family.name) {
      family_index = i;
    }
  }
  if (family_index == kFamilies) {
    return -1;
  }
  for (Region::Series& s : region_->series) {
    std::uint32_t state = s.state.load(std::memory_order_acquire);
    if (state == kFree && s.state.compare_exchange_strong(state, kNaming)) {
      s.family = static_cast<std::uint16_t>(family_index);
      s.role = chart_role(family.name, labels);
      copy_name(s.labels, sizeof s.labels, labels);
      constexpr std::string_view kProtocolLabel = "protocol=\"";
      if (labels.starts_with(kProtocolLabel)) {
        const std::string_view rest = labels.substr(kProtocolLabel.size());
        s.protocol = protocol_kind(rest.substr(0, rest.find('"')));
      }
      const std::uint32_t width = static_cast<std::uint32_t>(type_width(family.type));
      const std::uint32_t first = region_->next_value.fetch_add(width);
      s.first = first + width <= kValues ? static_cast<std::int32_t>(first) : -1;
      s.state.store(kNamed, std::memory_order_release);
    }
    wait_while_naming(s.state);
    if (s.state.load(std::memory_order_acquire) == kFree) {
      continue;  // lost the race for a free slot to a process naming it; it is named now
    }
    if (s.family == family_index && std::string_view(s.labels) == labels) {
      return s.first;
    }
  }
  return -1;
}

std::atomic<std::uint64_t>* Metrics::row(std::uint32_t child) const {
  return child < children_ ? rows_ + std::size_t{child} * kValues : nullptr;
}

void Metrics::retire_child(std::uint32_t child) {
  std::atomic<std::uint64_t>* dead = row(child);
  if (dead == nullptr) {
    return;
  }
  std::atomic<std::uint64_t>* exited = rows_ + std::size_t{children_} * kValues;
  region_->retiring.fetch_add(1, std::memory_order_acq_rel);
  for (const Region::Series& s : region_->series) {
    if (s.state.load(std::memory_order_acquire) != kNamed || s.first < 0) {
      continue;
    }
    const MetricType type = region_->families[s.family].type;
    for (std::size_t i = 0; i < type_width(type); ++i) {
      const std::uint64_t value = dead[s.first + i].exchange(0, std::memory_order_relaxed);
      if (type != MetricType::gauge) {  // its connections died with it
        exited[s.first + i].fetch_add(value, std::memory_order_relaxed);
      }
    }
  }
  region_->retiring.fetch_add(1, std::memory_order_release);
}

std::uint64_t Metrics::sum_values(int first, std::size_t width, std::uint64_t* out) const {
  // A reader racing a child's retirement could count its row twice or not at all; it reads
  // again instead, so a counter never appears to go backwards.
  for (;;) {
    const std::uint32_t before = region_->retiring.load(std::memory_order_acquire);
    if (before % 2 == 0) {
      std::fill(out, out + width, 0);
      for (std::uint32_t child = 0; child <= children_; ++child) {
        const std::atomic<std::uint64_t>* r = rows_ + std::size_t{child} * kValues + first;
        for (std::size_t i = 0; i < width; ++i) {
          out[i] += r[i].load(std::memory_order_relaxed);
        }
      }
      if (region_->retiring.load(std::memory_order_acquire) == before) {
        return out[0];
      }
    }
  }
}

std::uint64_t Metrics::total(int value) const {
  std::uint64_t out = 0;
  return value < 0 ? 0 : sum_values(value, 1, &out);
}

void Metrics::render(std::string& out) const {
  auto inserter = std::back_inserter(out);
  std::uint64_t values[kDurationBuckets.size() + 2];
  for (std::size_t f = 0; f < kFamilies; ++f) {
    const Region::Family& family = region_->families[f];
    if (family.state.load(std::memory_order_acquire) != kNamed) {
      continue;
    }
    fmt::format_to(inserter, "# HELP {} {}\n# TYPE {} {}\n", family.name, family.help, family.name,
                   type_name(family.type));
    for (const Region::Series& s : region_->series) {
      if (s.state.load(std::memory_order_acquire) != kNamed || s.family != f || s.first < 0) {
        continue;
      }
      const std::string_view labels(s.labels);
      sum_values(s.first, type_width(family.type), values);
      // No braces for a series without labels, as Prometheus writes them itself.
      const std::string_view open = labels.empty() ? "" : "{";
      const std::string_view close = labels.empty() ? "" : "}";
      if (family.type == MetricType::gauge) {
        fmt::format_to(inserter, "{}{}{}{} {}\n", family.name, open, labels, close,
                       static_cast<std::int64_t>(values[0]));
        continue;
      }
      if (family.type == MetricType::counter) {
        fmt::format_to(inserter, "{}{}{}{} {}\n", family.name, open, labels, close, values[0]);
        continue;
      }
      const std::string_view stem(family.name);
      const std::string_view comma = labels.empty() ? "" : ",";
      std::uint64_t cumulative = 0;
      for (std::size_t b = 0; b < kDurationBuckets.size(); ++b) {
        cumulative += values[b];
        fmt::format_to(inserter, "{}_bucket{{{}{}le=\"{}\"}} {}\n", stem, labels, comma,
                       kDurationBuckets[b], cumulative);
      }
      cumulative += values[kDurationBuckets.size()];
      fmt::format_to(inserter, "{}_bucket{{{}{}le=\"+Inf\"}} {}\n", stem, labels, comma,
                     cumulative);
      fmt::format_to(inserter, "{}_sum{}{}{} {:.6f}\n", stem, open, labels, close,
                     static_cast<double>(values[kDurationBuckets.size() + 1]) / 1e6);
      fmt::format_to(inserter, "{}_count{}{}{} {}\n", stem, open, labels, close, cumulative);
    }
  }
}

void Metrics::protocol_totals(HistorySample& out) const {
  out = HistorySample{};
  for (const Region::Series& s : region_->series) {
    if (s.state.load(std::memory_order_acquire) != kNamed || s.first < 0) {
      continue;
    }
    const std::size_t kind = static_cast<std::size_t>(s.protocol);
    std::uint64_t value = 0;
    switch (s.role) {
      case ChartRole::requests: out.requests[kind] += sum_values(s.first, 1, &value); break;
      case ChartRole::bytes: out.bytes[kind] += sum_values(s.first, 1, &value); break;
      case ChartRole::connections:
        out.connections[kind] += static_cast<std::uint32_t>(sum_values(s.first, 1, &value));
        break;
      case ChartRole::busy:
        out.busy[kind] += static_cast<std::uint32_t>(sum_values(s.first, 1, &value));
        break;
      case ChartRole::keepalive:
        out.keepalive[kind] += static_cast<std::uint32_t>(sum_values(s.first, 1, &value));
        break;
      case ChartRole::none: break;
    }
  }
}

void Metrics::sample_history(std::int64_t now_ms) {
  const std::int64_t second = now_ms / 1000;
  std::int64_t last = region_->last_sample.load(std::memory_order_acquire);
  if (second <= last || !region_->last_sample.compare_exchange_strong(last, second)) {
    return;  // taken already, by this process or another
  }
  HistorySample sample;
  protocol_totals(sample);
  sample.second = second;
  region_->history[static_cast<std::size_t>(second) % kHistory] = sample;
}

std::size_t Metrics::history(HistorySample* out, std::size_t seconds) const {
  seconds = std::min(seconds, kHistory);
  const std::int64_t newest = region_->last_sample.load(std::memory_order_acquire);
  std::size_t n = 0;
  for (std::int64_t s = newest - static_cast<std::int64_t>(seconds) + 1; s <= newest; ++s) {
    if (s <= 0) {
      continue;
    }
    const HistorySample& sample = region_->history[static_cast<std::size_t>(s) % kHistory];
    if (sample.second == s) {  // a second no child sampled (all idle in a wait) is left out
      out[n++] = sample;
    }
  }
  return n;
}

Metrics* running_metrics() {
  return g_metrics;
}
void set_running_metrics(Metrics* metrics) {
  g_metrics = metrics;
}
std::atomic<std::uint64_t>* metrics_row() {
  return g_row;
}
void set_metrics_child(std::uint32_t child) {
  g_row = g_metrics != nullptr ? g_metrics->row(child) : nullptr;
  g_child = child;
  g_in_child = true;
}

ChildScore* current_child_score() {
  Scoreboard* board = running_scoreboard();
  return board != nullptr && g_in_child && g_child < board->servers() ? &board->child(g_child)
                                                                      : nullptr;
}

void MetricCounter::add(std::int64_t amount) {
  std::atomic<std::uint64_t>* row = metrics_row();
  if (row == nullptr) {
    return;
  }
  int index = index_.load(std::memory_order_relaxed);
  if (index == -2) {
    index = running_metrics()->series(family_, labels_);
    index_.store(index, std::memory_order_relaxed);
  }
  if (index >= 0) {
    row[index].fetch_add(static_cast<std::uint64_t>(amount), std::memory_order_relaxed);
  }
}

}  // namespace collage
