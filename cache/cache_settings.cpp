#include "cache_settings.h"

#include "collage/directive.h"

namespace collage::cache {

bool parse_valid(const std::vector<std::string>& words, std::vector<StatusTtl>& out,
                 std::string& error) {
  std::vector<int> pending;
  for (const std::string& word : words) {
    if (word == "any") {
      pending.push_back(0);
      continue;
    }
    if (word.size() == 3 && std::all_of(word.begin(), word.end(), ::isdigit)) {
      pending.push_back(std::stoi(word));
      continue;
    }
    static const Directive kDuration{.name = "CacheValid", .type = ArgType::duration};
    DirectiveValue value;
    if (!parse_directive_value(kDuration, word, value, error)) {
      error = "CacheValid: '" + word + "' is neither a status, 'any' nor a duration";
      return false;
    }
    if (pending.empty()) {
      error = "CacheValid: the duration " + word + " follows no status";
      return false;
    }
    for (const int status : pending) {
      out.push_back({status, std::get<std::int64_t>(value) / 1000});
    }
    pending.clear();
  }
  if (!pending.empty()) {
    error = "CacheValid: the last statuses have no duration after them";
    return false;
  }
  return true;
}

std::int64_t ttl_for_status(const void* table, int status) {
  const auto& ttls = *static_cast<const std::vector<StatusTtl>*>(table);
  for (const StatusTtl& entry : ttls) {
    if (entry.status == status) {
      return entry.seconds;
    }
  }
  for (const StatusTtl& entry : ttls) {
    if (entry.status == 0) {
      return entry.seconds;
    }
  }
  return 0;
}

}  // namespace collage::cache
