#pragma once
// The pieces of server-side includes that are pure text work, so they are unit tested and fuzzed
// on their own: one directive's element and attributes, variable substitution, and the two
// expression languages of `if`/`elif` (mod_include's legacy one and Apache 2.4's ap_expr).

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace collage::ssi {

struct SsiDirective {
  std::string element;                                          // "include", "echo", …
  std::vector<std::pair<std::string, std::string>> attributes;  // in order, values unquoted
};

// Parses the text between "<!--#" and "-->". False with `error` set when it is not a directive.
bool parse_directive(std::string_view text, SsiDirective& out, std::string& error);

// A variable's value, or nothing when it is not set.
using Lookup = std::function<std::optional<std::string>(std::string_view name)>;

// "$NAME", "${NAME}" and "\$" in an attribute value (unset variables become empty).
std::string substitute(std::string_view text, const Lookup& lookup);

enum class ExprSyntax : std::uint8_t { ap_expr, legacy };

// Evaluates an `if`/`elif` expression; nothing (with `error`) on a syntax error or a regular
// expression that does not compile or runs past its match limit.
std::optional<bool> evaluate(std::string_view expr, ExprSyntax syntax, const Lookup& lookup,
                             std::string& error);

}  // namespace collage::ssi
