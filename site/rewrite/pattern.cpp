#include "pattern.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace collage::rewrite {
namespace {

// Per thread: match data big enough for $0..$9 and a context carrying the limits. Matching
// allocates nothing per request.
struct MatchScratch {
  pcre2_match_data* data = pcre2_match_data_create(10, nullptr);
  pcre2_match_context* context = pcre2_match_context_create(nullptr);
  pcre2_jit_stack* jit_stack = pcre2_jit_stack_create(32 * 1024, 512 * 1024, nullptr);
  MatchScratch() {
    pcre2_set_match_limit(context, kMatchLimit);
    pcre2_set_depth_limit(context, 10'000);
    pcre2_jit_stack_assign(context, nullptr, jit_stack);
  }
  ~MatchScratch() {
    pcre2_jit_stack_free(jit_stack);
    pcre2_match_context_free(context);
    pcre2_match_data_free(data);
  }
  MatchScratch(const MatchScratch&) = delete;
  MatchScratch& operator=(const MatchScratch&) = delete;
};

}  // namespace

std::optional<Pattern> Pattern::compile(std::string_view text, bool caseless, std::string& error) {
  int code = 0;
  PCRE2_SIZE offset = 0;
  const std::uint32_t options =
      PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | (caseless ? PCRE2_CASELESS : 0);
  pcre2_code* compiled = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(),
                                       options, &code, &offset, nullptr);
  if (compiled == nullptr) {
    std::array<PCRE2_UCHAR, 256> message{};
    pcre2_get_error_message(code, message.data(), message.size());
    error = "'" + std::string(text) +
            "' is not a regular expression: " + reinterpret_cast<const char*>(message.data()) +
            " at offset " + std::to_string(offset);
    return std::nullopt;
  }
  pcre2_jit_compile(compiled, PCRE2_JIT_COMPLETE);  // without JIT (unsupported CPU) it interprets
  Pattern pattern;
  pattern.code_ = std::shared_ptr<void>(
      compiled, [](void* p) { pcre2_code_free(static_cast<pcre2_code*>(p)); });
  pattern.text_ = text;
  return pattern;
}

MatchResult Pattern::match(std::string_view subject, Captures& captures) const {
  thread_local MatchScratch scratch;
  const int rc = pcre2_match(static_cast<const pcre2_code*>(code_.get()),
                             reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), 0, 0,
                             scratch.data, scratch.context);
  if (rc == PCRE2_ERROR_NOMATCH) {
    return MatchResult::no_match;
  }
  if (rc < 0) {
    return MatchResult::too_costly;  // match, depth or JIT stack limit (or a bad subject)
  }
  // rc == 0: more groups than the ovector holds; the first ten are filled.
  const std::size_t pairs = rc == 0 ? captures.size() : static_cast<std::size_t>(rc);
  const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(scratch.data);
  for (std::size_t i = 0; i < captures.size(); ++i) {
    const bool set = i < pairs && ovector[2 * i] != PCRE2_UNSET;
    captures[i] = set ? subject.substr(ovector[2 * i], ovector[2 * i + 1] - ovector[2 * i])
                      : std::string_view();
  }
  return MatchResult::match;
}

}  // namespace collage::rewrite
