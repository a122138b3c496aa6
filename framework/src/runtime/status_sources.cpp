#include <mutex>

#include "collage/status_source.h"

namespace collage {
namespace {

struct Sources {
  std::mutex mutex;
  std::vector<std::pair<std::string, StatusSource>> all;
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

}  // namespace collage
