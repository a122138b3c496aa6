#include "rewrite_rule.h"

#include <fmt/format.h>

#include "collage/generation.h"
#include "collage/log.h"
#include "collage/path.h"

namespace collage::rewrite {
namespace {

bool parse_flags(std::string_view word, RewriteRule& rule, std::string& error) {
  std::string_view rest = word.substr(1, word.size() - 2);
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    const std::string_view flag = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    const std::size_t equals = flag.find('=');
    const std::string_view name = flag.substr(0, equals);
    const std::string_view value =
        equals == std::string_view::npos ? std::string_view() : flag.substr(equals + 1);
    if (iequals(name, "R") || iequals(name, "redirect")) {
      rule.redirect = value.empty() ? 302 : std::atoi(std::string(value).c_str());
      if (rule.redirect != 301 && rule.redirect != 302 && rule.redirect != 303 &&
          rule.redirect != 307 && rule.redirect != 308) {
        error = "R= takes 301, 302, 303, 307 or 308, not " + std::string(value);
        return false;
      }
    } else if (iequals(name, "L") || iequals(name, "last")) {
      rule.last = true;
    } else if (iequals(name, "END")) {
      rule.end = true;
    } else if (iequals(name, "F") || iequals(name, "forbidden")) {
      rule.answer = 403;
    } else if (iequals(name, "G") || iequals(name, "gone")) {
      rule.answer = 410;
    } else if (iequals(name, "NC") || iequals(name, "nocase")) {
      // handled when the pattern is compiled
    } else if (iequals(name, "QSA") || iequals(name, "qsappend")) {
      rule.append_query = true;
    } else if (iequals(name, "QSD") || iequals(name, "qsdiscard")) {
      rule.discard_query = true;
    } else {
      error =
          "unknown flag '" + std::string(flag) + "' (known: R[=code], L, END, F, G, NC, QSA, QSD)";
      return false;
    }
  }
  return true;
}

bool has_flag(std::string_view word, std::string_view flag) {
  std::string_view rest = word.substr(1, word.size() - 2);
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    if (iequals(rest.substr(0, comma), flag)) {
      return true;
    }
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  return false;
}

bool is_flags(std::string_view word) {
  return word.size() >= 2 && word.front() == '[' && word.back() == ']';
}

bool parse_condition(std::string_view test, std::string_view pattern, std::string_view flags,
                     Condition& c, std::string& error) {
  if (!c.test.parse(test, error)) {
    return false;
  }
  c.decoded = test.find("REQUEST_URI") != std::string_view::npos ||
              test.find("REQUEST_FILENAME") != std::string_view::npos ||
              test.find("$uri") != std::string_view::npos;
  if (!flags.empty()) {
    std::string_view rest = flags.substr(1, flags.size() - 2);
    while (!rest.empty()) {
      const std::size_t comma = rest.find(',');
      const std::string_view flag = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      if (iequals(flag, "NC") || iequals(flag, "nocase")) {
        c.nocase = true;
      } else if (iequals(flag, "OR") || iequals(flag, "ornext")) {
        c.or_next = true;
      } else {
        error = "unknown condition flag '" + std::string(flag) + "' (known: NC, OR)";
        return false;
      }
    }
  }
  if (pattern.starts_with('!')) {
    c.negate = true;
    pattern.remove_prefix(1);
  }
  if (pattern == "-f") {
    c.op = Condition::Op::file;
  } else if (pattern == "-d") {
    c.op = Condition::Op::directory;
  } else if (pattern == "-e") {
    c.op = Condition::Op::exists;
  } else if (pattern.starts_with("-ip=")) {
    c.op = Condition::Op::address;
    std::string_view list = pattern.substr(4);
    while (!list.empty()) {
      const std::size_t comma = list.find(',');
      const std::string_view item = list.substr(0, comma);
      list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
      const std::optional<AddressBlock> block = parse_address_block(item);
      if (!block) {
        error = "'" + std::string(item) + "' is not an address or CIDR block";
        return false;
      }
      c.addresses.add(*block);
    }
  } else if (pattern.starts_with('=')) {
    c.op = Condition::Op::equals;
    c.equals = pattern.substr(1);
  } else {
    c.op = Condition::Op::regex;
    c.pattern = Pattern::compile(pattern, c.nocase, error);
    if (!c.pattern) {
      return false;
    }
  }
  return true;
}

// State of one rule's conditions: the subject of the last condition a regex matched and its
// groups (%1..%9 of the target).
struct ConditionMatch {
  std::string subject;
  Captures groups{};
  bool decoded = false;
  bool too_costly = false;  // a pattern gave up: the request is refused, not let through
};

bool evaluate(const Condition& c, RewriteContext& ctx, const Captures& rule_groups,
              ConditionMatch& last) {
  const Request& request = ctx.request;
  std::string subject;
  const ExpandInput input{request, ctx.location, &rule_groups, &last.groups, last.decoded};
  bool result = false;
  switch (c.op) {
    case Condition::Op::file:
    case Condition::Op::directory:
    case Condition::Op::exists: {
      // The test names a URL path the location serves; %{REQUEST_FILENAME} is the request's.
      if (!c.test.is_request_filename()) {
        c.test.expand(input, /*for_url=*/false, subject);
      }
      const std::string_view path = c.test.is_request_filename() ? request.path : subject;
      const PathKind kind = ctx.location.store != nullptr
                                ? ctx.location.store->path_kind(ctx.location, path)
                                : PathKind::none;
      result = c.op == Condition::Op::file        ? kind == PathKind::file
               : c.op == Condition::Op::directory ? kind == PathKind::directory
                                                  : kind != PathKind::none;
      break;
    }
    case Condition::Op::address:
      c.test.expand(input, false, subject);
      result = c.addresses.matches(subject);
      break;
    case Condition::Op::equals:
      c.test.expand(input, false, subject);
      result = c.nocase ? iequals(subject, c.equals) : subject == c.equals;
      break;
    case Condition::Op::regex: {
      c.test.expand(input, false, subject);
      Captures groups{};
      const MatchResult m = c.pattern->match(subject, groups);
      if (m == MatchResult::too_costly) {
        COLLAGE_LOG(LogLevel::error, "COL-REWRITE-0001",
                    "{}: condition pattern {} gave up on a costly subject; answered 500",
                    printable(request.target), c.pattern->text());
        last.too_costly = true;
      }
      result = m == MatchResult::match;
      if (result && !c.negate) {
        // Keep the subject the groups point into for the target.
        last.subject = std::move(subject);
        c.pattern->match(last.subject, last.groups);
        last.decoded = c.decoded;
      }
      break;
    }
  }
  return result != c.negate;
}

// Apache's rule: conditions are ANDed, and [OR] joins a condition with the next one.
bool conditions_hold(const RewriteRule& rule, RewriteContext& ctx, const Captures& groups,
                     ConditionMatch& last) {
  const std::vector<Condition>& all = rule.conditions;
  std::size_t i = 0;
  while (i < all.size()) {
    bool any = false;
    while (true) {
      any = any || evaluate(all[i], ctx, groups, last);
      if (last.too_costly) {
        return false;
      }
      if (!all[i].or_next || i + 1 == all.size()) {
        break;
      }
      ++i;
    }
    ++i;
    if (!any) {
      return false;
    }
  }
  return true;
}

void note(RewriteContext& ctx, std::string line) {
  if (ctx.trace != nullptr) {
    ctx.trace->push_back(std::move(line));
  }
}

}  // namespace

bool speaks_http(const Request& request) {
  return request.protocol == "http1" || request.protocol == "h2";
}

std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) {
      ++i;
    }
    if (i == text.size()) {
      break;
    }
    std::string word;
    if (text[i] == '"') {
      const std::size_t close = text.find('"', i + 1);
      const std::size_t end = close == std::string_view::npos ? text.size() : close;
      word = text.substr(i + 1, end - i - 1);
      i = end + 1;
    } else {
      const std::size_t end = std::min(text.find_first_of(" \t", i), text.size());
      word = text.substr(i, end - i);
      i = end;
    }
    words.push_back(std::move(word));
  }
  return words;
}

bool parse_rewrite_rule(std::string_view entry, RewriteRule& rule, std::string& error) {
  rule.source = entry;
  const std::vector<std::string> words = split_words(entry);
  if (words.size() < 2) {
    error = "takes PATTERN TARGET [FLAGS] [if TEST CONDITION [FLAGS]]..., got '" +
            std::string(entry) + "'";
    return false;
  }
  std::size_t next = 2;
  if (next < words.size() && is_flags(words[next])) {
    if (!parse_flags(words[next], rule, error)) {
      return false;
    }
    ++next;
  }
  const bool nocase = next > 2 && (has_flag(words[2], "NC") || has_flag(words[2], "nocase"));
  std::string_view pattern = words[0];
  if (pattern.starts_with('!')) {
    rule.negate = true;
    pattern.remove_prefix(1);
  }
  rule.pattern = Pattern::compile(pattern, nocase, error);
  if (!rule.pattern) {
    return false;
  }
  while (next < words.size()) {
    if (words[next] != "if" || next + 2 >= words.size()) {
      error = "expected 'if TEST CONDITION [FLAGS]' after the rule, at '" + words[next] + "'";
      return false;
    }
    Condition c;
    const bool has_flags = next + 3 < words.size() && is_flags(words[next + 3]);
    const std::string_view flags = has_flags ? std::string_view(words[next + 3]) : "";
    if (!parse_condition(words[next + 1], words[next + 2], flags, c, error)) {
      return false;
    }
    rule.conditions.push_back(std::move(c));
    next += flags.empty() ? 3 : 4;
  }
  if (words[1] != "-") {
    // %1..%9 name a condition's groups only where there are conditions; elsewhere a target's
    // %20 is percent-encoding, kept as written.
    rule.target.emplace();
    if (!rule.target->parse(words[1], error, !rule.conditions.empty())) {
      return false;
    }
  }
  return true;
}

bool apply_internal_target(std::string_view target, bool append_query, bool discard_query,
                           RewriteContext& ctx) {
  Request& request = ctx.request;
  const std::size_t question = target.find('?');
  std::string path;
  std::string_view path_part = target.substr(0, question);
  std::string prefixed;
  if (!path_part.starts_with('/')) {
    prefixed = "/" + std::string(path_part);
    path_part = prefixed;
  }
  if (normalize_path(path_part, path) != PathResult::ok) {
    return false;
  }
  if (question != std::string_view::npos) {
    std::string query(target.substr(question + 1));
    if (append_query && !request.query.empty()) {
      query += query.empty() ? "" : "&";
      query += request.query;
    }
    ctx.set_query(std::move(query));
  } else if (discard_query) {
    ctx.set_query({});
  }
  request.path = std::move(path);
  return true;
}

RewriteStep run_rewrite_rules(std::span<const RewriteRule> rules, RewriteContext& ctx) {
  Request& request = ctx.request;
  const std::string original = request.path;
  for (const RewriteRule& rule : rules) {
    Captures groups{};
    const MatchResult m = rule.pattern->match(request.path, groups);
    // A pattern that gives up fails closed: a deny rule must not be passed by a costly path.
    if (m == MatchResult::too_costly) {
      COLLAGE_LOG(LogLevel::error, "COL-REWRITE-0001",
                  "{}: rule pattern {} gave up on a costly subject; answered 500",
                  printable(request.target), rule.pattern->text());
      ctx.answer = RouteAnswer{500, {}};
      return RewriteStep::answered;
    }
    if ((m == MatchResult::match) == rule.negate) {
      continue;
    }
    ConditionMatch last;
    const bool hold = conditions_hold(rule, ctx, groups, last);
    if (last.too_costly) {
      ctx.answer = RouteAnswer{500, {}};
      return RewriteStep::answered;
    }
    if (!hold) {
      continue;
    }
    if (rule.answer != 0) {
      note(ctx, fmt::format("rewrite: rule '{}' matched: answered {}", rule.source, rule.answer));
      ctx.answer = RouteAnswer{rule.answer, {}};
      return RewriteStep::answered;
    }
    if (rule.target) {
      std::string target;
      rule.target->expand(ExpandInput{request, ctx.location, &groups, &last.groups, last.decoded},
                          /*for_url=*/true, target);
      const bool absolute = target.starts_with("http://") || target.starts_with("https://");
      if (rule.redirect != 0 || absolute) {
        if (!speaks_http(request)) {
          note(ctx, fmt::format("rewrite: rule '{}' redirects, which {} cannot follow; left out",
                                rule.source, request.protocol));
          continue;
        }
        const std::size_t question = target.find('?');
        if (question == std::string::npos && !rule.discard_query && !request.query.empty()) {
          target += '?';
          target += request.query;
        } else if (question != std::string::npos && rule.append_query && !request.query.empty()) {
          target += question + 1 == target.size() ? "" : "&";
          target += request.query;
        } else if (question != std::string::npos && question + 1 == target.size()) {
          target.pop_back();  // "target?": no query at all
        }
        note(ctx, fmt::format("rewrite: rule '{}' matched: redirect {} to {}", rule.source,
                              rule.redirect != 0 ? rule.redirect : 302, target));
        ctx.answer = RouteAnswer{rule.redirect != 0 ? rule.redirect : 302, {}};
        ctx.answer.headers.emplace_back("Location", std::move(target));
        return RewriteStep::answered;
      }
      if (!apply_internal_target(target, rule.append_query, rule.discard_query, ctx)) {
        COLLAGE_LOG(LogLevel::error, "COL-REWRITE-0002",
                    "{}: rule '{}' made {}, which is not a path a server would accept",
                    printable(request.target), rule.source, printable(target));
        ctx.answer = RouteAnswer{400, {}};
        return RewriteStep::answered;
      }
      note(ctx, fmt::format("rewrite: rule '{}' matched: now {}{}{}", rule.source, request.path,
                            request.query.empty() ? "" : "?", request.query));
    } else {
      note(ctx, fmt::format("rewrite: rule '{}' matched (no substitution)", rule.source));
    }
    if (rule.end) {
      return request.path != original ? RewriteStep::reroute_end : RewriteStep::next;
    }
    if (rule.last) {
      break;
    }
  }
  return request.path != original ? RewriteStep::reroute : RewriteStep::next;
}

}  // namespace collage::rewrite
