#include "ssi_syntax.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <cctype>
#include <cstdlib>
#include <memory>

namespace collage::ssi {
namespace {

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool is_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

// Matches `subject` against `pattern` with PCRE2, under a match limit so a hostile subject cannot
// make it run away. Nothing when the pattern is bad or the limit is hit.
std::optional<bool> regex_match(std::string_view pattern, std::string_view subject,
                                std::string& error) {
  int code = 0;
  PCRE2_SIZE offset = 0;
  std::unique_ptr<pcre2_code, decltype(&pcre2_code_free)> re(
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), 0, &code, &offset,
                    nullptr),
      pcre2_code_free);
  if (re == nullptr) {
    error = "the regular expression /" + std::string(pattern) + "/ does not compile";
    return std::nullopt;
  }
  std::unique_ptr<pcre2_match_context, decltype(&pcre2_match_context_free)> context(
      pcre2_match_context_create(nullptr), pcre2_match_context_free);
  pcre2_set_match_limit(context.get(), 100'000);
  pcre2_set_depth_limit(context.get(), 1'000);
  std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> data(
      pcre2_match_data_create_from_pattern(re.get(), nullptr), pcre2_match_data_free);
  const int rc = pcre2_match(re.get(), reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(),
                             0, 0, data.get(), context.get());
  if (rc >= 0) {
    return true;
  }
  if (rc == PCRE2_ERROR_NOMATCH) {
    return false;
  }
  error = "the regular expression /" + std::string(pattern) + "/ failed to run (match limit)";
  return std::nullopt;
}

// A token of either expression language.
struct Token {
  enum Kind : std::uint8_t { word, regex, op, end } kind = end;
  std::string text;  // a string's value (substituted), a regex pattern, or the operator
};

// Shared recursive-descent evaluation over tokens; the two languages differ in how they tokenize
// and which operators they know.
class Evaluator {
 public:
  Evaluator(std::vector<Token> tokens, ExprSyntax syntax, std::string& error)
      : tokens_(std::move(tokens)), syntax_(syntax), error_(error) {}

  std::optional<bool> run() {
    std::optional<bool> value = parse_or();
    if (value && peek().kind != Token::end) {
      fail("unexpected '" + peek().text + "'");
      return std::nullopt;
    }
    return failed_ ? std::nullopt : value;
  }

 private:
  const Token& peek() const { return tokens_[pos_]; }
  bool take_op(std::string_view op) {
    if (peek().kind == Token::op && peek().text == op) {
      ++pos_;
      return true;
    }
    return false;
  }
  void fail(std::string message) {
    if (!failed_) {
      error_ = std::move(message);
    }
    failed_ = true;
  }

  std::optional<bool> parse_or() {
    std::optional<bool> left = parse_and();
    while (left && take_op("||")) {
      const std::optional<bool> right = parse_and();
      if (!right) {
        return std::nullopt;
      }
      left = *left || *right;
    }
    return left;
  }
  std::optional<bool> parse_and() {
    std::optional<bool> left = parse_not();
    while (left && take_op("&&")) {
      const std::optional<bool> right = parse_not();
      if (!right) {
        return std::nullopt;
      }
      left = *left && *right;
    }
    return left;
  }
  std::optional<bool> parse_not() {
    if (take_op("!")) {
      const std::optional<bool> value = parse_not();
      return value ? std::optional<bool>(!*value) : std::nullopt;
    }
    if (take_op("(")) {
      const std::optional<bool> value = parse_or();
      if (value && !take_op(")")) {
        fail("a '(' is not closed");
        return std::nullopt;
      }
      return value;
    }
    return parse_comparison();
  }

  std::optional<bool> parse_comparison() {
    if (syntax_ == ExprSyntax::ap_expr && peek().kind == Token::op &&
        (peek().text == "-n" || peek().text == "-z" || peek().text == "-T")) {
      const std::string op = tokens_[pos_++].text;
      if (peek().kind != Token::word) {
        fail(op + " needs a word after it");
        return std::nullopt;
      }
      const std::string& word = tokens_[pos_++].text;
      if (op == "-n") {
        return !word.empty();
      }
      if (op == "-z") {
        return word.empty();
      }
      return !word.empty() && word != "0" && word != "off" && word != "false" && word != "no";
    }
    if (peek().kind != Token::word) {
      fail(peek().kind == Token::end ? "the expression ends too early"
                                     : "unexpected '" + peek().text + "'");
      return std::nullopt;
    }
    const std::string left = tokens_[pos_++].text;
    if (peek().kind != Token::op || peek().text == "&&" || peek().text == "||" ||
        peek().text == ")") {
      if (syntax_ == ExprSyntax::legacy) {
        return !left.empty();  // a lone string is true when it is not empty
      }
      if (left == "true" || left == "false") {
        return left == "true";
      }
      fail("'" + left + "' is not a condition (compare it, or test it with -n)");
      return std::nullopt;
    }
    const std::string op = tokens_[pos_++].text;
    const Token right = peek();
    if (right.kind != Token::word && right.kind != Token::regex) {
      fail(op + " needs something to compare with");
      return std::nullopt;
    }
    ++pos_;
    const bool regex_op = op == "=~" || op == "!~" ||
                          (syntax_ == ExprSyntax::legacy && right.kind == Token::regex &&
                           (op == "=" || op == "==" || op == "!="));
    if (regex_op) {
      if (right.kind != Token::regex) {
        fail(op + " needs a /regular expression/");
        return std::nullopt;
      }
      const std::optional<bool> matched = regex_match(right.text, left, error_);
      if (!matched) {
        failed_ = true;
        return std::nullopt;
      }
      return (op == "!~" || op == "!=") ? !*matched : *matched;
    }
    if (right.kind == Token::regex) {
      fail("a regular expression can only follow =~ or !~");
      return std::nullopt;
    }
    if (op.size() == 3 && op[0] == '-') {  // -eq -ne -lt -le -gt -ge: integers
      char* end_left = nullptr;
      char* end_right = nullptr;
      const long long a = std::strtoll(left.c_str(), &end_left, 10);
      const long long b = std::strtoll(right.text.c_str(), &end_right, 10);
      if (left.empty() || right.text.empty() || *end_left != '\0' || *end_right != '\0') {
        fail(op + " compares whole numbers");
        return std::nullopt;
      }
      if (op == "-eq")
        return a == b;
      if (op == "-ne")
        return a != b;
      if (op == "-lt")
        return a < b;
      if (op == "-le")
        return a <= b;
      if (op == "-gt")
        return a > b;
      if (op == "-ge")
        return a >= b;
    }
    const int c = left.compare(right.text);
    if (op == "=" || op == "==")
      return c == 0;
    if (op == "!=")
      return c != 0;
    if (op == "<")
      return c < 0;
    if (op == "<=")
      return c <= 0;
    if (op == ">")
      return c > 0;
    if (op == ">=")
      return c >= 0;
    fail("unknown operator '" + op + "'");
    return std::nullopt;
  }

  std::vector<Token> tokens_;
  ExprSyntax syntax_;
  std::string& error_;
  std::size_t pos_ = 0;
  bool failed_ = false;
};

// Operators, longest first so "<=" is not read as "<".
constexpr std::string_view kLegacyOps[] = {
    "&&", "||", "==", "!=", "<=", ">=", "=", "<", ">", "!", "(", ")"};
constexpr std::string_view kApOps[] = {"&&", "||", "==", "!=", "<=", ">=", "=~",
                                       "!~", "=",  "<",  ">",  "!",  "(",  ")"};
constexpr std::string_view kApWordOps[] = {"-eq", "-ne", "-lt", "-le", "-gt",
                                           "-ge", "-n",  "-z",  "-T"};

bool tokenize_legacy(std::string_view expr, const Lookup& lookup, std::vector<Token>& tokens,
                     std::string& error) {
  std::size_t i = 0;
  while (i < expr.size()) {
    if (is_space(expr[i])) {
      ++i;
      continue;
    }
    bool matched = false;
    for (std::string_view op : kLegacyOps) {
      if (expr.substr(i).starts_with(op)) {
        tokens.push_back({Token::op, std::string(op)});
        i += op.size();
        matched = true;
        break;
      }
    }
    if (matched) {
      continue;
    }
    if (expr[i] == '/') {
      const std::size_t close = expr.find('/', i + 1);
      if (close == std::string_view::npos) {
        error = "a /regular expression/ is not closed";
        return false;
      }
      tokens.push_back({Token::regex, substitute(expr.substr(i + 1, close - i - 1), lookup)});
      i = close + 1;
      continue;
    }
    std::string raw;
    if (expr[i] == '\'') {
      const std::size_t close = expr.find('\'', i + 1);
      if (close == std::string_view::npos) {
        error = "a quoted string is not closed";
        return false;
      }
      raw = expr.substr(i + 1, close - i - 1);
      i = close + 1;
    } else {
      const std::size_t start = i;
      while (i < expr.size() && !is_space(expr[i]) &&
             std::string_view("=!<>&|()'").find(expr[i]) == std::string_view::npos) {
        i += expr[i] == '\\' && i + 1 < expr.size() ? 2 : 1;
      }
      if (i == start) {
        error = std::string("unexpected '") + expr[i] + "'";  // a lone '&' or '|'
        return false;
      }
      raw = expr.substr(start, i - start);
    }
    std::string value = substitute(raw, lookup);
    // Adjacent strings are one string with a space between, as mod_include reads them.
    if (!tokens.empty() && tokens.back().kind == Token::word) {
      tokens.back().text += ' ';
      tokens.back().text += value;
    } else {
      tokens.push_back({Token::word, std::move(value)});
    }
  }
  tokens.push_back({Token::end, {}});
  return true;
}

// ap_expr strings interpolate %{NAME}; v('NAME') is a variable too.
std::string interpolate(std::string_view text, const Lookup& lookup) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 1 < text.size() && text[i + 1] == '{') {
      const std::size_t close = text.find('}', i + 2);
      if (close != std::string_view::npos) {
        out += lookup(text.substr(i + 2, close - i - 2)).value_or("");
        i = close;
        continue;
      }
    }
    if (text[i] == '\\' && i + 1 < text.size()) {
      ++i;
    }
    out += text[i];
  }
  return out;
}

bool tokenize_ap_expr(std::string_view expr, const Lookup& lookup, std::vector<Token>& tokens,
                      std::string& error) {
  std::size_t i = 0;
  while (i < expr.size()) {
    if (is_space(expr[i])) {
      ++i;
      continue;
    }
    const std::string_view rest = expr.substr(i);
    bool matched = false;
    for (std::string_view op : kApWordOps) {
      if (rest.starts_with(op) && (rest.size() == op.size() || is_space(rest[op.size()]))) {
        tokens.push_back({Token::op, std::string(op)});
        i += op.size();
        matched = true;
        break;
      }
    }
    for (std::string_view op : kApOps) {
      if (!matched && rest.starts_with(op)) {
        tokens.push_back({Token::op, std::string(op)});
        i += op.size();
        matched = true;
      }
    }
    if (matched) {
      continue;
    }
    if (rest[0] == '/' || (rest.starts_with("m") && rest.size() > 1 && !is_name_char(rest[1]))) {
      const char delimiter = rest[0] == '/' ? '/' : rest[1];
      const std::size_t open = rest[0] == '/' ? 0 : 1;
      const std::size_t close = rest.find(delimiter, open + 1);
      if (close == std::string_view::npos) {
        error = "a regular expression is not closed";
        return false;
      }
      tokens.push_back({Token::regex, std::string(rest.substr(open + 1, close - open - 1))});
      i += close + 1;
      continue;
    }
    if (rest[0] == '\'' || rest[0] == '"') {
      const std::size_t close = rest.find(rest[0], 1);
      if (close == std::string_view::npos) {
        error = "a quoted string is not closed";
        return false;
      }
      tokens.push_back({Token::word, interpolate(rest.substr(1, close - 1), lookup)});
      i += close + 1;
      continue;
    }
    if (rest.starts_with("%{")) {
      const std::size_t close = rest.find('}');
      if (close == std::string_view::npos) {
        error = "a %{variable} is not closed";
        return false;
      }
      tokens.push_back({Token::word, lookup(rest.substr(2, close - 2)).value_or("")});
      i += close + 1;
      continue;
    }
    if (rest.starts_with("v(") || rest.starts_with("v (")) {
      const std::size_t open = rest.find('(');
      const std::size_t close = rest.find(')', open);
      if (close == std::string_view::npos) {
        error = "v( is not closed";
        return false;
      }
      std::string_view name = rest.substr(open + 1, close - open - 1);
      while (!name.empty() && is_space(name.front()))
        name.remove_prefix(1);
      while (!name.empty() && is_space(name.back()))
        name.remove_suffix(1);
      if (name.size() >= 2 && (name.front() == '\'' || name.front() == '"') &&
          name.back() == name.front()) {
        name = name.substr(1, name.size() - 2);
      }
      tokens.push_back({Token::word, lookup(name).value_or("")});
      i += close + 1;
      continue;
    }
    const std::size_t start = i;
    while (i < expr.size() && (is_name_char(expr[i]) || expr[i] == '-' || expr[i] == '.')) {
      ++i;
    }
    if (i == start) {
      error = std::string("unexpected character '") + expr[i] + "'";
      return false;
    }
    tokens.push_back({Token::word, std::string(expr.substr(start, i - start))});
  }
  tokens.push_back({Token::end, {}});
  return true;
}

}  // namespace

bool parse_directive(std::string_view text, SsiDirective& out, std::string& error) {
  out = SsiDirective{};
  std::size_t i = 0;
  while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i])) != 0) {
    out.element += static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
    ++i;
  }
  if (out.element.empty()) {
    error = "no element name after <!--#";
    return false;
  }
  while (true) {
    while (i < text.size() && is_space(text[i])) {
      ++i;
    }
    if (i == text.size()) {
      return true;
    }
    std::string name;
    while (i < text.size() && (is_name_char(text[i]) || text[i] == '-')) {
      name += static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
      ++i;
    }
    while (i < text.size() && is_space(text[i])) {
      ++i;
    }
    if (name.empty() || i == text.size() || text[i] != '=') {
      error = "an attribute is not written name=\"value\"";
      return false;
    }
    ++i;
    while (i < text.size() && is_space(text[i])) {
      ++i;
    }
    std::string value;
    if (i < text.size() && (text[i] == '"' || text[i] == '\'' || text[i] == '`')) {
      const char quote = text[i++];
      while (i < text.size() && text[i] != quote) {
        // \" stays a quote inside the value; other backslashes are kept for substitution.
        if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == quote) {
          ++i;
        }
        value += text[i++];
      }
      if (i == text.size()) {
        error = "an attribute value's quote is not closed";
        return false;
      }
      ++i;
    } else {
      while (i < text.size() && !is_space(text[i])) {
        value += text[i++];
      }
    }
    out.attributes.emplace_back(std::move(name), std::move(value));
  }
}

std::string substitute(std::string_view text, const Lookup& lookup) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    if (text[i] != '$' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    std::string_view name;
    if (text[i + 1] == '{') {
      const std::size_t close = text.find('}', i + 2);
      if (close == std::string_view::npos) {
        out += text.substr(i);
        break;
      }
      name = text.substr(i + 2, close - i - 2);
      i = close;
    } else {
      std::size_t end = i + 1;
      while (end < text.size() && is_name_char(text[end])) {
        ++end;
      }
      if (end == i + 1) {
        out += '$';
        continue;
      }
      name = text.substr(i + 1, end - i - 1);
      i = end - 1;
    }
    out += lookup(name).value_or("");
  }
  return out;
}

std::optional<bool> evaluate(std::string_view expr, ExprSyntax syntax, const Lookup& lookup,
                             std::string& error) {
  std::vector<Token> tokens;
  const bool ok = syntax == ExprSyntax::legacy ? tokenize_legacy(expr, lookup, tokens, error)
                                               : tokenize_ap_expr(expr, lookup, tokens, error);
  if (!ok) {
    return std::nullopt;
  }
  return Evaluator(std::move(tokens), syntax, error).run();
}

}  // namespace collage::ssi
