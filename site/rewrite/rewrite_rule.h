#pragma once
// RewriteRule: a regular expression on the path, a target, flags as in Apache's mod_rewrite, and
// conditions written after the rule as `if TEST PATTERN [FLAGS]` clauses (Apache's RewriteCond,
// on the same line). Parsed once at load; run by the rewrite phase.

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "collage/address_rules.h"
#include "collage/site_rules.h"
#include "pattern.h"
#include "url_template.h"

namespace collage::rewrite {

struct Condition {
  enum class Op : std::uint8_t { regex, equals, file, directory, exists, address };
  UrlTemplate test;
  Op op = Op::regex;
  bool negate = false;
  bool nocase = false;
  bool or_next = false;  // [OR]: this or the next condition
  std::optional<Pattern> pattern;
  std::string equals;
  AddressRules addresses;
  bool decoded = false;  // the test string is a decoded path (its %N are re-encoded)
};

struct RewriteRule {
  std::string source;  // the entry as written, for logs and --explain
  std::optional<Pattern> pattern;
  bool negate = false;                // !PATTERN: the rule applies where the pattern does not match
  std::optional<UrlTemplate> target;  // empty for "-": no substitution
  int redirect = 0;                   // R=code
  int answer = 0;                     // F (403) or G (410)
  bool last = false;                  // L: no more rules this round
  bool end = false;                   // END: no more rules in any later round either
  bool append_query = false;          // QSA
  bool discard_query = false;         // QSD
  std::vector<Condition> conditions;
};

// Splits an entry into words; "double quotes" keep spaces in one word.
std::vector<std::string> split_words(std::string_view text);

// Parses one RewriteRule entry; false with error naming what is wrong.
bool parse_rewrite_rule(std::string_view entry, RewriteRule& rule, std::string& error);

// Runs the rules in order against ctx.request.
RewriteStep run_rewrite_rules(std::span<const RewriteRule> rules, RewriteContext& ctx);

// Sets request path and query from an internal target ("/path?query", a URL). False when the
// path is not one a server would accept.
bool apply_internal_target(std::string_view target, bool append_query, bool discard_query,
                           RewriteContext& ctx);

// HTTP/1.1 and HTTP/2 can follow a redirect; FTP and Gopher cannot.
bool speaks_http(const Request& request);

}  // namespace collage::rewrite
