// Parsing of the site modules' rules (rewrite rules, templates, patterns, header rules): what is
// refused at load and what a parsed rule holds. Running them is tested against the real binary
// (tests/site/test_site_integration.py).

#include <gtest/gtest.h>

#include "collage/generation.h"
#include "header_rules.h"
#include "pattern.h"
#include "redirect_rules.h"
#include "rewrite_rule.h"
#include "url_template.h"

namespace collage {
namespace {

using rewrite::Captures;
using rewrite::MatchResult;
using rewrite::Pattern;
using rewrite::RewriteRule;
using rewrite::UrlTemplate;

TEST(Pattern, MatchesWithGroupsAndCase) {
  std::string error;
  const auto pattern = Pattern::compile("^/blog/(\\d+)/(\\w+)$", false, error);
  ASSERT_TRUE(pattern) << error;
  Captures groups{};
  ASSERT_EQ(pattern->match("/blog/42/hello", groups), MatchResult::match);
  EXPECT_EQ(groups[1], "42");
  EXPECT_EQ(groups[2], "hello");
  EXPECT_EQ(groups[3], "");
  EXPECT_EQ(pattern->match("/BLOG/42/hello", groups), MatchResult::no_match);
  const auto caseless = Pattern::compile("^/blog/", true, error);
  ASSERT_TRUE(caseless);
  EXPECT_EQ(caseless->match("/BLOG/42", groups), MatchResult::match);
}

TEST(Pattern, BacktrackingBlowUpIsStoppedNotRun) {
  std::string error;
  // Classic catastrophic patterns: exponential on a near-miss subject without a limit.
  for (const char* text : {"^(a+)+$", "^(a|a)*$", "^(\\w+\\s?)*$"}) {
    const auto pattern = Pattern::compile(text, false, error);
    ASSERT_TRUE(pattern) << error;
    Captures groups{};
    const std::string subject = std::string(40, 'a') + "!";
    EXPECT_EQ(pattern->match(subject, groups), MatchResult::too_costly) << text;
  }
}

TEST(Pattern, RefusesWhatIsNotARegex) {
  std::string error;
  EXPECT_FALSE(Pattern::compile("^/a(b", false, error));
  EXPECT_NE(error.find("offset"), std::string::npos) << error;
}

TEST(UrlTemplate, ParsesVariablesAndRefusesUnknownOnes) {
  UrlTemplate t;
  std::string error;
  EXPECT_TRUE(t.parse("/x/$1?q=%{QUERY_STRING}&h=%{HTTP:X-Test}&u=$uri", error)) << error;
  EXPECT_FALSE(t.parse("/x/%{NOPE}", error));
  EXPECT_NE(error.find("NOPE"), std::string::npos);
  EXPECT_FALSE(t.parse("/x/$nope", error));
  EXPECT_FALSE(t.parse("/x/%{QUERY_STRING", error));
  EXPECT_FALSE(t.parse("/x/\\", error));
}

TEST(UrlTemplate, ReEncodesWhatCameFromTheDecodedPath) {
  UrlTemplate t;
  std::string error;
  ASSERT_TRUE(t.parse("/new/$1?from=$uri&raw=%{QUERY_STRING}\\$1", error)) << error;
  Request request;
  request.path = "/old/a b?#%";
  request.query = "x=%20&y";
  Location location;
  Captures groups{};
  groups[1] = std::string_view(request.path).substr(5);
  std::string out;
  t.expand({request, location, &groups}, /*for_url=*/true, out);
  EXPECT_EQ(out, "/new/a%20b%3F%23%25?from=/old/a%20b%3F%23%25&raw=x=%20&y$1");
  out.clear();
  t.expand({request, location, &groups}, /*for_url=*/false, out);
  EXPECT_EQ(out, "/new/a b?#%?from=/old/a b?#%&raw=x=%20&y$1");
}

TEST(RewriteRule, ParsesFlagsAndConditions) {
  RewriteRule rule;
  std::string error;
  ASSERT_TRUE(rewrite::parse_rewrite_rule(
      "^/(.*)$ /index.php?q=$1 [QSA,L,NC] if %{REQUEST_FILENAME} !-f if %{HTTP_HOST} "
      "^www\\. [NC,OR] if %{REMOTE_ADDR} -ip=10.0.0.0/8,::1",
      rule, error))
      << error;
  EXPECT_TRUE(rule.append_query);
  EXPECT_TRUE(rule.last);
  ASSERT_EQ(rule.conditions.size(), 3u);
  EXPECT_EQ(rule.conditions[0].op, rewrite::Condition::Op::file);
  EXPECT_TRUE(rule.conditions[0].negate);
  EXPECT_TRUE(rule.conditions[1].nocase);
  EXPECT_TRUE(rule.conditions[1].or_next);
  EXPECT_EQ(rule.conditions[2].op, rewrite::Condition::Op::address);
  EXPECT_TRUE(rule.conditions[2].addresses.matches("10.1.2.3"));
  EXPECT_FALSE(rule.conditions[2].addresses.matches("192.168.0.1"));
}

TEST(RewriteRule, RefusesWhatItCannotRun) {
  std::string error;
  for (const char* entry :
       {"^/a", "^/a /b [X]", "^/a /b [R=200]", "^/a( /b", "^/a /b if %{HTTP_HOST}",
        "^/a /b unless x y", "^/a /b if %{NOPE} x", "^/a /b if %{REMOTE_ADDR} -ip=nonsense",
        "^/a /b if %{HTTP_HOST} x [ZZ]"}) {
    RewriteRule rule;
    EXPECT_FALSE(rewrite::parse_rewrite_rule(entry, rule, error)) << entry;
    EXPECT_FALSE(error.empty()) << entry;
  }
}

TEST(UrlTemplate, PercentDigitsAreLiteralWhereNoConditionHasGroups) {
  std::string error;
  Request request;
  request.path = "/x";
  Location location;
  Captures none{};
  RewriteRule plain;
  ASSERT_TRUE(rewrite::parse_rewrite_rule("^/x$ /a%20b", plain, error)) << error;
  std::string out;
  plain.target->expand({request, location, &none, &none}, true, out);
  EXPECT_EQ(out, "/a%20b");
  RewriteRule conditioned;
  ASSERT_TRUE(
      rewrite::parse_rewrite_rule("^/x$ /h/%1 if %{HTTP_HOST} ^(\\w+)$", conditioned, error))
      << error;
  Captures groups{};
  groups[1] = "example";
  out.clear();
  conditioned.target->expand({request, location, &none, &groups}, true, out);
  EXPECT_EQ(out, "/h/example");
  rewrite::Redirect redirect;
  ASSERT_TRUE(rewrite::parse_redirect("301 /old /new%20page", false, redirect, error));
  out.clear();
  redirect.target->expand({request, location}, true, out);
  EXPECT_EQ(out, "/new%20page");
}

TEST(RewriteRule, QuotedWordsKeepSpaces) {
  const std::vector<std::string> words = rewrite::split_words("^/a \"/b c\"  [L]");
  ASSERT_EQ(words.size(), 3u);
  EXPECT_EQ(words[1], "/b c");
}

TEST(Redirect, ParsesStatusesAndTargets) {
  std::string error;
  rewrite::Redirect r;
  ASSERT_TRUE(rewrite::parse_redirect("permanent /old/ https://example.org/new", false, r, error));
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(r.from, "/old");
  rewrite::Redirect gone;
  ASSERT_TRUE(rewrite::parse_redirect("gone /removed", false, gone, error)) << error;
  EXPECT_EQ(gone.status, 410);
  EXPECT_FALSE(gone.target);
  rewrite::Redirect bad;
  EXPECT_FALSE(rewrite::parse_redirect("301 old /new", false, bad, error));
  EXPECT_FALSE(rewrite::parse_redirect("301 /old", false, bad, error));
  EXPECT_FALSE(rewrite::parse_redirect("308 ^/(a /b", true, bad, error));
  std::uint16_t port = 0;
  EXPECT_TRUE(rewrite::parse_https_port("8443", port, error));
  EXPECT_EQ(port, 8443);
  EXPECT_FALSE(rewrite::parse_https_port("99999", port, error));
  EXPECT_FALSE(rewrite::parse_https_port("yes", port, error));
}

TEST(HeaderRule, ParsesAndRefusesFramingFields) {
  std::string error;
  headers::HeaderRule rule;
  ASSERT_TRUE(headers::parse_header_rule(
      "always set Content-Security-Policy \"default-src 'self'\"", true, rule, error))
      << error;
  EXPECT_TRUE(rule.always);
  EXPECT_EQ(rule.value, "default-src 'self'");
  for (const char* entry : {"set Content-Length 5", "unset Transfer-Encoding", "set X-A",
                            "unset X-A value", "frob X-A 1", "set Bad:Name 1"}) {
    headers::HeaderRule refused;
    EXPECT_FALSE(headers::parse_header_rule(entry, true, refused, error)) << entry;
  }
  headers::HeaderRule request_rule;
  EXPECT_FALSE(headers::parse_header_rule("always set X-A 1", false, request_rule, error));
}

TEST(HeaderRule, AppliesToTheEntitysOwnFields) {
  std::string error;
  Entity out;
  out.content_type = "text/plain";
  out.etag = "\"abc\"";
  out.headers.add("Cache-Control", "public");
  // Parsed first and kept: the entity may point into the rules, which outlive it in a server.
  std::vector<headers::HeaderRule> rules;
  for (const char* entry :
       {"set Content-Type text/markdown", "unset ETag", "append Cache-Control no-transform",
        "setifempty X-A 1", "setifempty X-A 2", "add X-B 1", "add X-B 2"}) {
    ASSERT_TRUE(headers::parse_header_rule(entry, true, rules.emplace_back(), error)) << entry;
  }
  for (const headers::HeaderRule& rule : rules) {
    headers::apply_response_rule(rule, out);
  }
  EXPECT_EQ(out.content_type, "text/markdown");
  EXPECT_TRUE(out.etag.empty());
  EXPECT_EQ(out.headers.get("Cache-Control"), "public, no-transform");
  EXPECT_EQ(out.headers.get("X-A"), "1");
  int b = 0;
  for (const auto& [name, value] : out.headers.fields()) {
    b += name == "X-B";
  }
  EXPECT_EQ(b, 2);
}

}  // namespace
}  // namespace collage
