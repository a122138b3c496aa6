#include "collage/listing.h"

#include <charconv>

namespace collage {

void append_listing_entry(const ListingEntry& entry, std::string& out) {
  out += entry.directory ? 'd' : 'f';
  out += '\t';
  out += std::to_string(entry.size);
  out += '\t';
  out += std::to_string(static_cast<long long>(entry.modified));
  out += '\t';
  out += std::to_string(entry.mode);
  out += '\t';
  for (char c : entry.name) {
    out += (c == '\n' || c == '\r') ? '?' : c;  // a name must not break the line format
  }
  out += '\n';
}

std::vector<ListingEntry> parse_listing(std::string_view text) {
  std::vector<ListingEntry> entries;
  while (!text.empty()) {
    const std::size_t lf = text.find('\n');
    std::string_view line = text.substr(0, lf);
    text = lf == std::string_view::npos ? std::string_view() : text.substr(lf + 1);
    std::string_view fields[5];
    bool ok = true;
    for (int i = 0; i < 4 && ok; ++i) {
      const std::size_t tab = line.find('\t');
      ok = tab != std::string_view::npos;
      fields[i] = line.substr(0, tab);
      line.remove_prefix(ok ? tab + 1 : line.size());
    }
    if (!ok || fields[0].size() != 1) {
      continue;
    }
    fields[4] = line;
    ListingEntry e;
    e.directory = fields[0] == "d";
    long long modified = 0;
    std::from_chars(fields[1].data(), fields[1].data() + fields[1].size(), e.size);
    std::from_chars(fields[2].data(), fields[2].data() + fields[2].size(), modified);
    std::from_chars(fields[3].data(), fields[3].data() + fields[3].size(), e.mode);
    e.modified = static_cast<std::time_t>(modified);
    e.name = fields[4];
    entries.push_back(std::move(e));
  }
  return entries;
}

}  // namespace collage
