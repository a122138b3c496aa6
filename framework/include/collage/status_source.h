#pragma once
// Lines a module adds to /server-status: the status store shows each source under its title,
// and as "Name: value" lines in ?auto. A module registers its source once per process, when it
// registers itself; sources are called at request time, on any thread, and read shared state
// (the cache's counters live in shared memory, so any process sees every process's counts).

#include <functional>
#include <string>
#include <vector>

namespace collage {

struct StatusLine {
  std::string name;  // CamelCase, no spaces: also the ?auto key ("CacheHitRatio")
  std::string value;
};

using StatusSource = std::function<void(std::vector<StatusLine>& out)>;

void add_status_source(std::string title, StatusSource source);

struct StatusSection {
  std::string title;
  std::vector<StatusLine> lines;
};
// Every source's current lines, in registration order.
std::vector<StatusSection> collect_status_sections();

// Families a module keeps in its own shared memory (the cache's counters), appended to the
// metrics store's answer in the Prometheus text format at scrape time.
using MetricsSource = std::function<void(std::string& out)>;
void add_metrics_source(MetricsSource source);
void append_metrics_sources(std::string& out);

}  // namespace collage
