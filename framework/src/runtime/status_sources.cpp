#include <mutex>

#include "collage/status_source.h"

namespace collage {
namespace {

struct Sources {
  std::mutex mutex;
  std::vector<std::pair<std::string, StatusSource>> all;
  std::vector<MetricsSource> metrics;
};

Sources& sources() {
  static Sources instance;
  return instance;
}

}  // namespace

void add_status_source(std::string title, StatusSource source) {
  Sources& s = sources();
  const std::lock_guard lock(s.mutex);
  s.all.emplace_back(std::move(title), std::move(source));
}

std::vector<StatusSection> collect_status_sections() {
  Sources& s = sources();
  const std::lock_guard lock(s.mutex);
  std::vector<StatusSection> sections;
  for (const auto& [title, source] : s.all) {
    StatusSection section{title, {}};
    source(section.lines);
    if (!section.lines.empty()) {
      sections.push_back(std::move(section));
    }
  }
  return sections;
}

void add_metrics_source(MetricsSource source) {
  Sources& s = sources();
  const std::lock_guard lock(s.mutex);
  s.metrics.push_back(std::move(source));
}

void append_metrics_sources(std::string& out) {
  Sources& s = sources();
  const std::lock_guard lock(s.mutex);
  for (const MetricsSource& source : s.metrics) {
    source(out);
  }
}

}  // namespace collage
