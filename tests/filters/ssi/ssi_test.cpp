// SSI: directive and expression parsing, and the filter fed its input split at every byte.

#include <gtest/gtest.h>

#include <asio/io_context.hpp>

#include "collage/middle_end.h"
#include "ssi_filter.h"
#include "ssi_syntax.h"

namespace collage::ssi {
namespace {

Lookup vars(std::map<std::string, std::string> values) {
  return [values = std::move(values)](std::string_view name) -> std::optional<std::string> {
    auto it = values.find(std::string(name));
    return it == values.end() ? std::nullopt : std::optional(it->second);
  };
}

std::optional<bool> eval(std::string_view expr, ExprSyntax syntax) {
  std::string error;
  return evaluate(expr, syntax, vars({{"who", "world"}, {"n", "7"}, {"empty", ""}}), error);
}

TEST(SsiSyntax, ParsesElementsAndQuotedAttributes) {
  SsiDirective d;
  std::string error;
  ASSERT_TRUE(parse_directive("include virtual=\"/a b.html\" file='x' ", d, error));
  EXPECT_EQ(d.element, "include");
  ASSERT_EQ(d.attributes.size(), 2u);
  EXPECT_EQ(d.attributes[0].second, "/a b.html");
  EXPECT_EQ(d.attributes[1].first, "file");
  ASSERT_TRUE(parse_directive("echo var=\"say \\\"hi\\\"\"", d, error));
  EXPECT_EQ(d.attributes[0].second, "say \"hi\"");
  EXPECT_FALSE(parse_directive(" include", d, error));
  EXPECT_FALSE(parse_directive("include virtual", d, error));
  EXPECT_FALSE(parse_directive("include virtual=\"open", d, error));
}

TEST(SsiSyntax, SubstitutesVariables) {
  const Lookup find = vars({{"who", "world"}});
  EXPECT_EQ(substitute("hello $who, ${who}s \\$who $unset.", find), "hello world, worlds $who .");
  EXPECT_EQ(substitute("cost $", find), "cost $");
}

TEST(SsiSyntax, ApacheExpressions) {
  EXPECT_EQ(eval("v('who') == 'world'", ExprSyntax::ap_expr), true);
  EXPECT_EQ(eval("%{who} != 'world'", ExprSyntax::ap_expr), false);
  EXPECT_EQ(eval("-n %{who} && -z %{empty}", ExprSyntax::ap_expr), true);
  EXPECT_EQ(eval("%{n} -gt 5 && !(%{n} -ge 8)", ExprSyntax::ap_expr), true);
  EXPECT_EQ(eval("%{who} =~ /^w.r/", ExprSyntax::ap_expr), true);
  EXPECT_EQ(eval("%{who} !~ m#^x#", ExprSyntax::ap_expr), true);
  EXPECT_EQ(eval("false || true", ExprSyntax::ap_expr), true);
  EXPECT_EQ(eval("'a %{who}' == 'a world'", ExprSyntax::ap_expr), true);
  EXPECT_FALSE(eval("%{who} ==", ExprSyntax::ap_expr).has_value());
  EXPECT_FALSE(eval("(true", ExprSyntax::ap_expr).has_value());
  EXPECT_FALSE(eval("%{who}", ExprSyntax::ap_expr).has_value());
  EXPECT_FALSE(eval("%{n} -gt x", ExprSyntax::ap_expr).has_value());
  EXPECT_FALSE(eval("%{who} =~ /(/", ExprSyntax::ap_expr).has_value());
}

TEST(SsiSyntax, LegacyExpressions) {
  EXPECT_EQ(eval("$who = world", ExprSyntax::legacy), true);
  EXPECT_EQ(eval("\"$who\" = /^wor/", ExprSyntax::legacy), false);  // quotes are literal here
  EXPECT_EQ(eval("$who = /^wor/", ExprSyntax::legacy), true);
  EXPECT_EQ(eval("$who != /^x/ && $n", ExprSyntax::legacy), true);
  EXPECT_EQ(eval("$empty", ExprSyntax::legacy), false);
  EXPECT_EQ(eval("!($who = world) || 'a b' = 'a b'", ExprSyntax::legacy), true);
  EXPECT_EQ(eval("a b = 'a b'", ExprSyntax::legacy), true);  // adjacent strings join
  EXPECT_FALSE(eval("$who = /open", ExprSyntax::legacy).has_value());
  // A lone '|' or '&' is an error, not a token of no length read forever (found by ssi_fuzz).
  EXPECT_FALSE(eval("a -g|  t3| m#x# !~ b", ExprSyntax::legacy).has_value());
  EXPECT_FALSE(eval("a & b", ExprSyntax::legacy).has_value());
}

TEST(SsiSyntax, HostileInputHitsTheMatchLimitInsteadOfRunningAway) {
  std::string error;
  const std::string subject(40, 'a');
  const auto result =
      evaluate("%{s} =~ /^(a+)+$b/", ExprSyntax::ap_expr, vars({{"s", subject + "!"}}), error);
  // Either it is found not to match quickly, or the limit stops it with an error: no hang.
  EXPECT_TRUE(!result.has_value() || !*result);
}

// The filter over a whole page, fed in two parts split at `cut`.
std::string run_split(const std::string& page, std::size_t cut) {
  asio::io_context io;
  ConnectionTracker tracker;
  Services services(io.get_executor(), tracker);
  VirtualHost host;
  Location location;
  Request request;
  request.path = "/dir/page.shtml";
  RequestContext ctx{request, host, location, services, nullptr};
  SsiSettings settings;
  settings.error_message = "[ERR]";
  std::unique_ptr<FilterInstance> instance = make_ssi_instance(ctx, settings);
  std::string result;
  asio::co_spawn(
      io,
      [&]() -> Task<void> {
        std::vector<std::pair<std::string, bool>> parts = {{page.substr(0, cut), false},
                                                           {page.substr(cut), true}};
        for (auto& [text, last] : parts) {
          Brigade in;
          in.append_owned(text);
          FilterStatus status;
          do {
            Brigade out;
            status = co_await instance->process(in, last, out);
            in.clear();
            out.append_to(result);
          } while (status == FilterStatus::again);
          EXPECT_EQ(status, FilterStatus::pass);
        }
      },
      asio::detached);
  io.run();
  return result;
}

TEST(SsiFilter, SameOutputWhereverTheInputIsSplit) {
  const std::string page =
      "<p><!--#set var=\"a\" value=\"x<y\" -->[<!--#echo var=\"a\" -->]"
      "[<!--#echo var=\"a\" encoding=\"none\" -->][<!--#echo var=\"DOCUMENT_NAME\" -->]"
      "<!--#if expr=\"v('a') == 'x<y'\" -->yes<!--#else -->no<!--#endif -->"
      "<!--#if expr=\"false\" -->hidden<!--#echo var=\"nope\" --><!--#elif expr=\"true\" "
      "-->elif<!--#endif -->"
      "<!--#bogus --> <!-- a comment --> <!--#echo var=\"unset\" --> <!-x- end</p>";
  const std::string expected =
      "<p>[x&lt;y][x<y][page.shtml]yeselif[ERR] <!-- a comment --> (none) <!-x- end</p>";
  for (std::size_t cut = 0; cut <= page.size(); ++cut) {
    ASSERT_EQ(run_split(page, cut), expected) << "split at " << cut;
  }
}

}  // namespace
}  // namespace collage::ssi
