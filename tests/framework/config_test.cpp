// The directive registry, typed values, scopes and the XML loader.

#include <gtest/gtest.h>

#include <array>

#include "collage/config.h"
#include "collage/directive.h"

namespace collage {
namespace {

constexpr std::array<std::string_view, 2> kColours = {"red", "blue"};

const Directive kTestDirectives[] = {
    {.name = "Flag", .type = ArgType::flag, .contexts = kAnyContext, .default_value = "off"},
    {.name = "Count",
     .type = ArgType::integer,
     .contexts = kAnyContext,
     .default_value = "3",
     .min = 1,
     .max = 10},
    {.name = "Bytes", .type = ArgType::size, .contexts = kAnyContext, .default_value = "1k"},
    {.name = "Wait", .type = ArgType::duration, .contexts = kServerContext, .default_value = "5s"},
    {.name = "Colour",
     .type = ArgType::enumeration,
     .contexts = kAnyContext,
     .default_value = "red",
     .choices = kColours},
    {.name = "Words", .type = ArgType::list, .contexts = kAnyContext},
    {.name = "Name", .type = ArgType::string, .contexts = kLocationContext},
};

class ConfigTest : public ::testing::Test {
 protected:
  ConfigTest() { registry.add("test", kTestDirectives); }

  std::unique_ptr<ServerConfig> load(const std::string& xml, LoadOptions options = {}) {
    errors = ConfigErrors();
    options.use_environment = false;
    return load_config_text(xml, "test.xml", registry, options, errors);
  }

  std::string all_errors() const {
    std::string out;
    for (const auto& m : errors.messages()) {
      out += m + "\n";
    }
    return out;
  }

  DirectiveRegistry registry;
  ConfigErrors errors;
};

TEST_F(ConfigTest, ParsesTypedValues) {
  DirectiveValue v;
  std::string error;
  ASSERT_TRUE(parse_directive_value(kTestDirectives[2], "64k", v, error));
  EXPECT_EQ(std::get<std::int64_t>(v), 65536);
  ASSERT_TRUE(parse_directive_value(kTestDirectives[2], "2M", v, error));
  EXPECT_EQ(std::get<std::int64_t>(v), 2 * 1024 * 1024);
  ASSERT_TRUE(parse_directive_value(kTestDirectives[3], "250ms", v, error));
  EXPECT_EQ(std::get<std::int64_t>(v), 250);
  ASSERT_TRUE(parse_directive_value(kTestDirectives[3], "2m", v, error));
  EXPECT_EQ(std::get<std::int64_t>(v), 120000);
  ASSERT_TRUE(parse_directive_value(kTestDirectives[3], "7", v, error));
  EXPECT_EQ(std::get<std::int64_t>(v), 7000);
  ASSERT_TRUE(parse_directive_value(kTestDirectives[4], "BLUE", v, error));
  EXPECT_EQ(std::get<std::string>(v), "blue");
  ASSERT_TRUE(parse_directive_value(kTestDirectives[0], " yes ", v, error));
  EXPECT_TRUE(std::get<bool>(v));
}

TEST_F(ConfigTest, RefusesBadValuesWithReasons) {
  DirectiveValue v;
  std::string error;
  EXPECT_FALSE(parse_directive_value(kTestDirectives[1], "11", v, error));
  EXPECT_EQ(error, "expects a number between 1 and 10, got 11");
  EXPECT_FALSE(parse_directive_value(kTestDirectives[1], "3x", v, error));
  EXPECT_FALSE(parse_directive_value(kTestDirectives[2], "10q", v, error));
  EXPECT_NE(error.find("unknown size unit"), std::string::npos);
  EXPECT_FALSE(parse_directive_value(kTestDirectives[2], "99999999999g", v, error));
  EXPECT_FALSE(parse_directive_value(kTestDirectives[3], "-1s", v, error));
  EXPECT_FALSE(parse_directive_value(kTestDirectives[4], "green", v, error));
  EXPECT_EQ(error, "expects one of red blue, got 'green'");
  EXPECT_FALSE(parse_directive_value(kTestDirectives[0], "maybe", v, error));
}

TEST_F(ConfigTest, ScopesInheritAndFallBackToDefaults) {
  auto config = load(R"(<Collage>
  <Listen protocol="http1" port="80"/>
  <Count>5</Count>
  <VirtualHost name="Example.ORG">
    <Flag>on</Flag>
    <Location path="/a/">
      <Count>7</Count>
      <Words>x y</Words>
      <Words>z</Words>
    </Location>
  </VirtualHost>
</Collage>)");
  ASSERT_TRUE(config) << all_errors();
  ASSERT_EQ(config->virtual_hosts.size(), 1u);
  const VirtualHostConfig& host = config->virtual_hosts[0];
  EXPECT_EQ(host.name, "example.org");
  ASSERT_EQ(host.locations.size(), 2u);  // "/a" and the implicit "/"
  const Scope& a = *host.locations[0].scope;
  EXPECT_EQ(host.locations[0].path, "/a");
  EXPECT_EQ(a.integer("Count"), 7);
  EXPECT_TRUE(a.flag("Flag"));
  EXPECT_EQ(a.size("Bytes"), 1024u);
  EXPECT_EQ(a.list("Words"), (std::vector<std::string>{"x", "y", "z"}));
  const Scope& root = *host.locations[1].scope;
  EXPECT_EQ(host.locations[1].path, "/");
  EXPECT_EQ(root.integer("Count"), 5);
  EXPECT_FALSE(root.is_set("Words"));
  EXPECT_EQ(a.where("Count").line, 7);
  EXPECT_THROW(root.integer("NoSuchDirective"), std::logic_error);
}

TEST_F(ConfigTest, ReportsEveryErrorWithItsLineAndColumn) {
  auto config = load(R"(<Collage>
  <Cuont>5</Cuont>
  <Wait>later</Wait>
  <Name>x</Name>
  <Listen protocol="http1" port="99999"/>
  <Flag extra="1">on</Flag>
  <Location path="nope"/>
  <Mystery/>
</Collage>)");
  EXPECT_FALSE(config);
  const auto& m = errors.messages();
  ASSERT_EQ(m.size(), 7u) << all_errors();
  EXPECT_EQ(m[0], "test.xml:2:3: unknown directive 'Cuont', did you mean 'Count'?");
  EXPECT_EQ(m[1].rfind("test.xml:3:3: Wait expects a duration", 0), 0u);
  EXPECT_EQ(m[2], "test.xml:4:3: Name is not allowed in the server level");
  EXPECT_EQ(m[3], "test.xml:5:3: port must be a number from 0 to 65535, got '99999'");
  EXPECT_EQ(m[4], "test.xml:6:3: unknown attribute 'extra' on <Flag>");
  EXPECT_EQ(
      m[5],
      "test.xml:7:3: Location path must start with '/' (or be a name such as @front, for a named "
      "location)");
  EXPECT_EQ(m[6], "test.xml:8:3: unknown directive 'Mystery'");
}

TEST_F(ConfigTest, UnknownDirectiveWithoutCloseMatchHasNoHint) {
  EXPECT_FALSE(load("<Collage>\n<Mystery/>\n</Collage>"));
  EXPECT_EQ(errors.messages().at(0), "test.xml:2:1: unknown directive 'Mystery'");
}

TEST_F(ConfigTest, WrongRootAndBrokenXml) {
  EXPECT_FALSE(load("<Apache/>"));
  EXPECT_EQ(errors.messages().at(0), "test.xml:1:1: the root element must be <Collage>");
  EXPECT_FALSE(load("<Collage>\n<Count>\n</Collage>"));
  EXPECT_NE(errors.messages().at(0).find("XML is not well-formed"), std::string::npos);
}

TEST_F(ConfigTest, DefinesResolveInOrder) {
  const std::string xml = R"(<Collage>
  <Define name="N" value="4"/>
  <Listen protocol="http1" port="80"/>
  <Count>${N}</Count>
  <Bytes>${SIZE:-2k}</Bytes>
</Collage>)";
  auto config = load(xml);
  ASSERT_TRUE(config) << all_errors();
  EXPECT_EQ(config->scope->integer("Count"), 4);
  EXPECT_EQ(config->scope->size("Bytes"), 2048u);
  LoadOptions options;
  options.defines["N"] = "9";
  config = load(xml, options);
  ASSERT_TRUE(config) << all_errors();
  EXPECT_EQ(config->scope->integer("Count"), 9);
  EXPECT_EQ(config->defines.at("N"), "9");
}

TEST_F(ConfigTest, UndefinedVariableIsAnError) {
  EXPECT_FALSE(load("<Collage>\n<Count>${MISSING}</Count>\n</Collage>"));
  EXPECT_EQ(errors.messages().at(0).rfind("test.xml:2: ${MISSING} is not defined", 0), 0u);
}

TEST_F(ConfigTest, DuplicateDirectiveDeclarationIsABug) {
  EXPECT_THROW(registry.add("again", kTestDirectives), std::logic_error);
}

// Configuration as data: each row says which field its value goes to.
struct Nested {
  std::uint16_t count = 0;
};
struct Bound {
  bool flag = false;
  Nested nested;
  std::uint64_t bytes = 0;
  std::chrono::seconds wait{0};
  std::string colour;
  std::optional<std::vector<std::string>> words;
  std::optional<std::string> name;
  int untouched = 42;
};

const Directive kBound[] = {
    {.name = "Flag",
     .type = ArgType::flag,
     .contexts = kAnyContext,
     .default_value = "off",
     .field = bind<&Bound::flag>()},
    {.name = "Count",
     .type = ArgType::integer,
     .contexts = kAnyContext,
     .default_value = "3",
     .field = bind<&Bound::nested, &Nested::count>()},
    {.name = "Bytes",
     .type = ArgType::size,
     .contexts = kAnyContext,
     .default_value = "1k",
     .field = bind<&Bound::bytes>()},
    {.name = "Wait",
     .type = ArgType::duration,
     .contexts = kServerContext,
     .default_value = "5s",
     .field = bind<&Bound::wait>()},
    {.name = "Colour",
     .type = ArgType::enumeration,
     .contexts = kAnyContext,
     .default_value = "red",
     .choices = kColours,
     .field = bind<&Bound::colour>()},
    {.name = "Words",
     .type = ArgType::list,
     .contexts = kAnyContext,
     .field = bind<&Bound::words>()},
    {.name = "Name",
     .type = ArgType::string,
     .contexts = kLocationContext,
     .field = bind<&Bound::name>()},
    {.name = "Other",
     .type = ArgType::string,
     .contexts = kAnyContext,
     .field = bind<&Nested::count>()},  // another struct's: fill<Bound> leaves it alone
};

TEST(ConfigAsData, FieldsAreFilledFromScopesAndDefaults) {
  DirectiveRegistry directives;
  directives.add("bound", kBound);
  ConfigErrors errors;
  LoadOptions options;
  options.use_environment = false;
  auto config = load_config_text(
      "<Collage><Count>7</Count><Wait>90s</Wait><Bytes>2m</Bytes>\n"
      "<Location path=\"/a\"><Flag>on</Flag><Words>x y</Words><Name>n</Name></Location>"
      "</Collage>",
      "t.xml", directives, options, errors);
  ASSERT_TRUE(config) << errors.messages().front();
  const Bound server = config->scope->read<Bound>(kBound);
  EXPECT_FALSE(server.flag);
  EXPECT_EQ(server.nested.count, 7);
  EXPECT_EQ(server.bytes, 2u * 1024 * 1024);
  EXPECT_EQ(server.wait, std::chrono::seconds(90));
  EXPECT_EQ(server.colour, "red");                      // the default
  EXPECT_EQ(server.words, std::vector<std::string>{});  // a list's default is the empty list
  EXPECT_FALSE(server.name);
  EXPECT_EQ(server.untouched, 42);
  const Scope& a = *config->virtual_hosts.at(0).locations.at(0).scope;
  const Bound location = a.read<Bound>(kBound);
  EXPECT_TRUE(location.flag);
  EXPECT_EQ(location.nested.count, 7);  // inherited
  EXPECT_EQ(location.words, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(location.name, "n");
}

TEST(ConfigLoaderTest, ADirectiveGivenTwiceInOneScopeIsAnError) {
  DirectiveRegistry directives;
  static const Directive kTable[] = {{.name = "Colour", .default_value = "red"},
                                     {.name = "Tags", .type = ArgType::list, .default_value = ""}};
  directives.add("test", kTable);
  ConfigErrors errors;
  LoadOptions options;
  auto config = load_config_text(
      "<Collage>\n<Colour>blue</Colour>\n<Tags>a</Tags>\n<Tags>b</Tags>\n<Colour>green</Colour>\n"
      "</Collage>",
      "t.xml", directives, options, errors);
  EXPECT_FALSE(config);
  ASSERT_EQ(errors.messages().size(), 1u);  // lists may repeat; plain values may not
  EXPECT_EQ(errors.messages()[0],
            "t.xml:5:1: Colour is given twice here (first at t.xml:2:1); keep one");
}

}  // namespace
}  // namespace collage
