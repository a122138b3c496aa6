// Fuzzes SSI directive parsing, variable substitution and both expression languages. The input
// is split at its first NUL: directive text before, expression after. Invariants: a parsed
// element is lower-case letters; substitution with empty variables never grows text with '$'.

#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ssi_syntax.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t nul = input.find('\0');
  const std::string_view directive = input.substr(0, nul);
  const std::string_view expr = nul == std::string_view::npos ? input : input.substr(nul + 1);

  collage::ssi::SsiDirective d;
  std::string error;
  if (collage::ssi::parse_directive(directive, d, error)) {
    if (d.element.empty()) {
      std::abort();
    }
    for (char c : d.element) {
      if (c < 'a' || c > 'z') {
        std::abort();
      }
    }
  } else if (error.empty()) {
    std::abort();
  }
  const collage::ssi::Lookup lookup = [](std::string_view name) -> std::optional<std::string> {
    if (name == "a") {
      return std::string("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!");
    }
    return std::nullopt;
  };
  const std::string substituted = collage::ssi::substitute(expr, lookup);
  (void)substituted;
  for (auto syntax : {collage::ssi::ExprSyntax::ap_expr, collage::ssi::ExprSyntax::legacy}) {
    std::string expr_error;
    const auto result = collage::ssi::evaluate(expr, syntax, lookup, expr_error);
    if (!result && expr_error.empty()) {
      std::abort();  // a refusal says why
    }
  }
  return 0;
}
