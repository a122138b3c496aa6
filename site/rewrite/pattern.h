#pragma once
// A regular expression of a rewrite rule or condition: PCRE2, compiled once per configuration
// generation (with JIT where the machine has it), matched with limits so that a hostile subject
// against a backtracking-prone pattern costs a bounded amount of work, never a stalled thread.

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace collage::rewrite {

// $0..$9 (or %0..%9): the whole match and the first nine groups; empty when a group is unset.
using Captures = std::array<std::string_view, 10>;

enum class MatchResult : std::uint8_t { match, no_match, too_costly };

class Pattern {
 public:
  // Compiles text; on failure returns nothing and sets error to PCRE2's message and offset.
  static std::optional<Pattern> compile(std::string_view text, bool caseless, std::string& error);

  // Matches subject, filling captures (views into subject) on a match. too_costly: the match or
  // depth limit stopped it (callers answer 500 with a log line: a deny rule must not be passed).
  MatchResult match(std::string_view subject, Captures& captures) const;
  const std::string& text() const { return text_; }

 private:
  std::shared_ptr<void> code_;  // pcre2_code, freed with pcre2_code_free
  std::string text_;
};

// The backtracking budget of one match (PCRE2's match limit); a pattern that needs more on some
// subject gets too_costly for it.
inline constexpr std::uint32_t kMatchLimit = 200'000;

}  // namespace collage::rewrite
