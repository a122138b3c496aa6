// The rewrite module's parsers: the first line is a RewriteRule entry as a configuration would
// hold it, the rest a request path it is run against. Invariants: a parsed rule's pattern
// matches without crashing and within the match limit's bounded cost, and a target whose text
// holds no space or control byte expands (for a URL) to text without them, whatever the path.

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "collage/generation.h"
#include "rewrite_rule.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t newline = input.find('\n');
  const std::string_view entry = input.substr(0, newline);
  if (entry.find('\r') != std::string_view::npos) {
    return 0;  // the loader keeps entries to one line
  }
  collage::rewrite::RewriteRule rule;
  std::string error;
  if (!collage::rewrite::parse_rewrite_rule(entry, rule, error)) {
    if (error.empty()) {
      std::abort();  // a refusal always says why
    }
    return 0;
  }
  collage::Request request;
  request.path = newline == std::string_view::npos ? "/" : std::string(input.substr(newline + 1));
  collage::Location location;
  collage::rewrite::Captures groups{};
  if (rule.pattern->match(request.path, groups) != collage::rewrite::MatchResult::match ||
      !rule.target) {
    return 0;
  }
  std::string out;
  rule.target->expand({request, location, &groups}, /*for_url=*/true, out);
  const std::string& text = rule.target->text();
  const bool clean_template =
      text.find_first_of(std::string_view(" \t\r\n\0", 5)) == std::string::npos;
  // Headers of the request are empty here, so only literals and re-encoded groups remain.
  if (clean_template && out.find_first_of(std::string_view(" \t\r\n\0", 5)) != std::string::npos) {
    std::abort();
  }
  return 0;
}
