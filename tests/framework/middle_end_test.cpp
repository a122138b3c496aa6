// Routing (virtual host, longest prefix on whole segments) and the middle end's filter mosaic,
// with stores and filters defined here so the framework is tested on its own.

#include "collage/middle_end.h"

#include <gtest/gtest.h>

#include <asio/io_context.hpp>
#include <map>
#include <optional>

#include "collage/config.h"
#include "collage/generation.h"
#include "collage/registry.h"

namespace collage {
namespace {

// Answers with its own name so a test can see which location was chosen.
class NameStore final : public Store {
 public:
  explicit NameStore(std::string name, MethodSet methods)
      : name_(std::move(name)), methods_(methods) {}
  MethodSet methods() const override { return methods_; }
  Task<void> handle(RequestContext&, Entity& out) const override {
    out.set_body(name_, content_type_);
    co_return;
  }
  std::string_view content_type_ = "text/plain";

 private:
  std::string name_;
  MethodSet methods_;
};

// Appends its name to the end of the body stream, so the order of the chain shows in the output.
class TagInstance final : public FilterInstance {
 public:
  explicit TagInstance(std::string_view tag) : tag_(tag) {}
  Task<FilterStatus> process(Brigade& in, bool last, Brigade& out) override {
    for (const Bucket& b : in.buckets()) {
      out.append(b);
    }
    if (last) {
      out.append_static(tag_);
    }
    co_return FilterStatus::pass;
  }

 private:
  std::string_view tag_;
};

class TagFilter final : public Filter {
 public:
  explicit TagFilter(std::string tag) : tag_(std::move(tag)) {}
  FilterStatus start(RequestContext&, Entity& e,
                     std::unique_ptr<FilterInstance>& instance) const override {
    e.length.reset();
    instance = std::make_unique<TagInstance>(tag_);
    return FilterStatus::pass;
  }

 private:
  std::string tag_;
};

// Yields its text one byte per part, so every consumer sees a stream split at every boundary.
class ByteStream final : public BodyStream {
 public:
  explicit ByteStream(std::string text) : text_(std::move(text)) {}
  Task<StreamStatus> next(Brigade& out, std::size_t) override {
    if (at_ == text_.size()) {
      co_return StreamStatus::end;
    }
    out.append_owned(text_.substr(at_++, 1));
    co_return at_ == text_.size() ? StreamStatus::end : StreamStatus::more;
  }

 private:
  std::string text_;
  std::size_t at_ = 0;
};

// Like NameStore, but streams its answer (Answer, or the path after /stream/).
class StreamingStore final : public Store {
 public:
  explicit StreamingStore(std::string name) : name_(std::move(name)) {}
  MethodSet methods() const override { return MethodSet{Method::get, Method::head}; }
  Task<void> handle(RequestContext&, Entity& out) const override {
    out.status = 200;
    out.content_type = "text/plain";
    out.etag = "\"s\"";
    out.stream = std::make_unique<ByteStream>(name_);
    co_return;
  }

 private:
  std::string name_;
};

struct TestConfig {
  std::string answer;
};

std::string answer_of(const Scope& scope);

const Directive kDirectives[] = {
    {.name = "Answer",
     .type = ArgType::string,
     .contexts = kAnyContext,
     .default_value = "none",
     .field = bind<&TestConfig::answer>()},
};

std::string answer_of(const Scope& scope) {
  return scope.read<TestConfig>(kDirectives).answer;
}

FilterRegistration tag_filter(std::string_view name, FilterStage stage, bool on_by_default) {
  FilterRegistration f;
  f.name = name;
  f.capabilities.stage = stage;
  f.on_by_default = on_by_default;
  f.factory = [tag = std::string("|") + std::string(name)](const Scope&, ConfigErrors&) {
    return std::make_unique<TagFilter>(tag);
  };
  return f;
}

// Runs the pipeline, then pulls the whole body as a front end would: the ready part, then the
// stream's parts.
Task<void> respond_and_pull(RequestContext& ctx, Entity& entity, std::string& text) {
  co_await respond(ctx, entity);
  BodyWalk walk(entity);
  Brigade part;
  StreamStatus more = StreamStatus::more;
  while (more == StreamStatus::more) {
    more = co_await walk.next(part);
    for (const Bucket& b : part.buckets()) {
      text += b.bytes;
    }
  }
}

class MiddleEndTest : public ::testing::Test {
 protected:
  MiddleEndTest() {
    registry.add_module({"test", ModuleKind::store, "test store"}, kDirectives);
    registry.add_store("name", [](const Scope& scope, ConfigErrors&) -> std::unique_ptr<Store> {
      return std::make_unique<NameStore>(answer_of(scope), MethodSet{Method::get, Method::put});
    });
    registry.add_store("stream", [](const Scope& scope, ConfigErrors&) -> std::unique_ptr<Store> {
      return std::make_unique<StreamingStore>(answer_of(scope));
    });
    registry.add_mpm("event", [](const Scope&, ConfigErrors&) { return nullptr; });
    ProtocolRegistration http1;
    http1.factory = [](const Scope&, ConfigErrors&) -> std::unique_ptr<Protocol> {
      return nullptr;
    };
    registry.add_protocol("http1", std::move(http1));
  }

  std::shared_ptr<Generation> build(const std::string& body) {
    LoadOptions options;
    options.use_environment = false;
    auto config =
        load_config_text("<Collage><Store>" + default_store + "</Store>" + body + "</Collage>",
                         "t.xml", registry.directives(), options, errors);
    if (!config) {
      return nullptr;
    }
    return Generation::build(std::move(config), registry, errors);
  }

  // Runs the middle end for one request and returns the entity body as text.
  std::string answer(const Generation& gen, std::string_view host, std::string path,
                     Method method = Method::get, int* status = nullptr,
                     std::optional<std::uint64_t> read_offset = std::nullopt) {
    Request request;
    request.host = host;
    request.path = std::move(path);
    request.method = method;
    request.read_offset = read_offset;
    asio::io_context io;
    ConnectionTracker tracker;
    Services services(io.get_executor(), tracker);
    RequestContext ctx = route(gen, request, services);
    Entity entity;
    std::string text;
    // The whole body, as a front end would pull it: the ready part, then the stream's parts.
    asio::co_spawn(io, respond_and_pull(ctx, entity, text), asio::detached);
    io.run();
    if (status) {
      *status = entity.status;
    }
    last_headers = entity.headers;
    if (entity.headers.contains("Allow")) {
      text += "allow=" + std::string(entity.headers.get("Allow"));
    }
    return text;
  }

  Registry registry;
  ConfigErrors errors;
  Metadata last_headers;
  std::string default_store = "name";
};

// A resumed read (FTP REST + RETR) is the middle end's: any store's body, from the offset on, with
// no filter involved; past the end is a 416.
TEST_F(MiddleEndTest, ReadOffsetSlicesWhatAnyStoreAnswers) {
  auto gen = build("<Answer>0123456789</Answer><Listen protocol=\"http1\" port=\"0\"/>");
  ASSERT_TRUE(gen) << errors.messages().front();
  for (std::uint64_t offset = 0; offset <= 10; ++offset) {
    int status = 0;
    EXPECT_EQ(answer(*gen, "x", "/", Method::get, &status, offset),
              std::string("0123456789").substr(offset));
    EXPECT_EQ(status, 200);
  }
  int status = 0;
  answer(*gen, "x", "/", Method::get, &status, 11);
  EXPECT_EQ(status, 416);
  EXPECT_EQ(answer(*gen, "x", "/"), "0123456789");
}

TEST_F(MiddleEndTest, ReadOffsetSkipsIntoAStream) {
  auto gen = build(
      "<Answer>0123456789</Answer><Listen protocol=\"http1\" port=\"0\"/>"
      "<Location path=\"/s\"><Store>stream</Store></Location>");
  ASSERT_TRUE(gen) << errors.messages().front();
  for (std::uint64_t offset = 0; offset <= 12; ++offset) {
    int status = 0;
    EXPECT_EQ(answer(*gen, "x", "/s", Method::get, &status, offset),
              offset <= 10 ? std::string("0123456789").substr(offset) : "")
        << offset;
    EXPECT_EQ(status, 200);  // a stream's length is not known up front
  }
}

TEST_F(MiddleEndTest, RoutesByHostThenLongestPrefix) {
  auto gen = build(R"(
    <Listen protocol="http1" port="0"/>
    <VirtualHost name="a.test"><Answer>a-root</Answer>
      <Location path="/docs"><Answer>a-docs</Answer></Location>
      <Location path="/docs/api"><Answer>a-api</Answer></Location>
    </VirtualHost>
    <VirtualHost name="b.test"><ServerAlias>B.alias</ServerAlias><Answer>b-root</Answer>
    </VirtualHost>)");
  ASSERT_TRUE(gen) << (errors.messages().empty() ? "" : errors.messages()[0]);
  EXPECT_EQ(answer(*gen, "a.test", "/"), "a-root");
  EXPECT_EQ(answer(*gen, "a.test", "/docs"), "a-docs");
  EXPECT_EQ(answer(*gen, "a.test", "/docs/x"), "a-docs");
  EXPECT_EQ(answer(*gen, "a.test", "/docs/api/v1"), "a-api");
  EXPECT_EQ(answer(*gen, "a.test", "/docsx"), "a-root");
  EXPECT_EQ(answer(*gen, "b.test", "/docs"), "b-root");
  EXPECT_EQ(answer(*gen, "b.alias", "/"), "b-root");
  EXPECT_EQ(answer(*gen, "unknown.test", "/docs"), "a-docs");
}

TEST_F(MiddleEndTest, MethodNotAllowedAndOptionsCarryAllow) {
  auto gen = build(R"(<Listen protocol="http1" port="0"/>)");
  ASSERT_TRUE(gen);
  int status = 0;
  EXPECT_EQ(answer(*gen, "", "/", Method::del, &status).find("allow=GET, PUT, OPTIONS") !=
                std::string::npos,
            true);
  EXPECT_EQ(status, 405);
  EXPECT_EQ(answer(*gen, "", "/", Method::options, &status), "allow=GET, PUT, OPTIONS");
  EXPECT_EQ(status, 200);
  EXPECT_TRUE(gen->all_methods().contains(Method::put));
}

TEST_F(MiddleEndTest, FiltersRunByStageThenConstraints) {
  auto late = tag_filter("late", FilterStage::content, true);
  late.capabilities.after = {"early"};
  registry.add_filter(std::move(late));
  registry.add_filter(tag_filter("encode", FilterStage::encoding, true));
  registry.add_filter(tag_filter("early", FilterStage::content, true));
  registry.add_filter(tag_filter("optional", FilterStage::transform, false));
  auto gen = build(R"(<Listen protocol="http1" port="0"/><Answer>x</Answer>
    <Location path="/more"><Filters>optional -encode</Filters></Location>)");
  ASSERT_TRUE(gen);
  EXPECT_EQ(answer(*gen, "", "/"), "x|early|late|encode");
  EXPECT_EQ(answer(*gen, "", "/more"), "x|early|late|optional");
}

TEST_F(MiddleEndTest, FiltersApplyOnlyWhereTheirCapabilitiesFit) {
  auto html_only = tag_filter("html", FilterStage::content, true);
  html_only.capabilities.content_types = {"text/html"};
  registry.add_filter(std::move(html_only));
  auto range_like = tag_filter("needs-header", FilterStage::transform, true);
  range_like.capabilities.request_header = "Range";
  range_like.capabilities.statuses = {200};
  registry.add_filter(std::move(range_like));
  auto put_only = tag_filter("put", FilterStage::transform, true);
  put_only.capabilities.methods = MethodSet{Method::put};
  registry.add_filter(std::move(put_only));
  auto gen = build(R"(<Listen protocol="http1" port="0"/><Answer>x</Answer>)");
  ASSERT_TRUE(gen);
  EXPECT_EQ(answer(*gen, "", "/"), "x");  // text/plain, no Range header, GET
  EXPECT_EQ(answer(*gen, "", "/", Method::put), "x|put");
}

TEST_F(MiddleEndTest, UnknownNamesAreConfigErrors) {
  EXPECT_FALSE(build(R"(<Listen protocol="smtp" port="0"/><Filters>nope</Filters>
                        <Location path="/x"><Store>nothing</Store></Location><Mpm>other</Mpm>)"));
  std::string all;
  for (const auto& m : errors.messages()) {
    all += m + "\n";
  }
  EXPECT_NE(all.find("unknown protocol 'smtp'"), std::string::npos) << all;
  EXPECT_NE(all.find("unknown filter 'nope'"), std::string::npos) << all;
  EXPECT_NE(all.find("unknown store 'nothing'"), std::string::npos) << all;
  EXPECT_NE(all.find("unknown MPM 'other'"), std::string::npos) << all;
}

TEST_F(MiddleEndTest, NoListenerIsAnError) {
  EXPECT_FALSE(build(""));
  ASSERT_FALSE(errors.messages().empty());
  EXPECT_NE(errors.messages()[0].find("no <Listen>"), std::string::npos);
}

// A stand-in for compression: an encoding-stage filter that gives the representation its own ETag
// and applies only when Accept-Encoding allows "x-test".
class RecodeFilter final : public Filter {
 public:
  FilterStatus start(RequestContext&, Entity& e, std::unique_ptr<FilterInstance>&) const override {
    e.etag = "\"s-x\"";
    e.headers.set("Content-Encoding", "x-test");
    return FilterStatus::pass;
  }
};

FilterRegistration recode_filter() {
  FilterRegistration f;
  f.name = "recode";
  f.capabilities.stage = FilterStage::encoding;
  f.capabilities.request_predicate = {"Accept-Encoding", [](std::string_view value) {
                                        return header_allows_token(value, "x-test");
                                      }};
  f.capabilities.vary = {"Accept-Encoding"};
  f.on_by_default = true;
  f.factory = [](const Scope&, ConfigErrors&) { return std::make_unique<RecodeFilter>(); };
  return f;
}

class PipelineTest : public MiddleEndTest {
 protected:
  PipelineTest() { default_store = "stream"; }
  // Runs a GET with the given request headers against a streaming store answering "abcdef".
  Entity run(const Generation& gen, std::string path, std::vector<Metadata::Field> headers,
             std::string* body = nullptr) {
    Request request;
    request.path = std::move(path);
    request.method = Method::get;
    request.protocol = "http1";
    for (const auto& [name, value] : headers) {
      request.headers.add(name, value);
    }
    asio::io_context io;
    ConnectionTracker tracker;
    Services services(io.get_executor(), tracker);
    RequestContext ctx = route(gen, request, services);
    Entity entity;
    std::string text;
    asio::co_spawn(io, respond_and_pull(ctx, entity, text), asio::detached);
    io.run();
    if (body != nullptr) {
      *body = text;
    }
    return entity;
  }
  std::shared_ptr<Generation> streaming(const std::string& more = "") {
    return build("<Answer>abcdef</Answer><Listen protocol=\"http1\" port=\"0\"/>" + more);
  }
};

TEST_F(PipelineTest, VaryIsAddedWhetherOrNotThePredicateLetsTheFilterApply) {
  registry.add_filter(recode_filter());
  auto gen = streaming();
  ASSERT_TRUE(gen);
  Entity plain = run(*gen, "/", {});
  EXPECT_EQ(plain.headers.get("Vary"), "Accept-Encoding");
  EXPECT_FALSE(plain.headers.contains("Content-Encoding"));
  Entity refused = run(*gen, "/", {{"Accept-Encoding", "x-test;q=0, gzip"}});
  EXPECT_FALSE(refused.headers.contains("Content-Encoding"));
  Entity star = run(*gen, "/", {{"Accept-Encoding", "gzip, *;q=0.1"}});
  EXPECT_EQ(star.headers.get("Content-Encoding"), "x-test");
  EXPECT_EQ(star.headers.get("Vary"), "Accept-Encoding");
}

// The 304 is decided against the representation sent: the recoded one has its own ETag.
TEST_F(PipelineTest, PreconditionsSeeTheETagOfTheVariantSent) {
  registry.add_filter(recode_filter());
  auto gen = streaming();
  ASSERT_TRUE(gen);
  std::string body;
  EXPECT_EQ(run(*gen, "/", {{"If-None-Match", "\"s\""}}, &body).status, 304);
  EXPECT_EQ(body, "");
  EXPECT_EQ(
      run(*gen, "/", {{"If-None-Match", "\"s\""}, {"Accept-Encoding", "x-test"}}, &body).status,
      200);
  EXPECT_EQ(body, "abcdef");
  Entity variant =
      run(*gen, "/", {{"If-None-Match", "\"s-x\""}, {"Accept-Encoding", "x-test"}}, &body);
  EXPECT_EQ(variant.status, 304);
  EXPECT_EQ(variant.etag, "\"s-x\"");
  EXPECT_EQ(variant.headers.get("Vary"), "Accept-Encoding");  // kept on the 304
  EXPECT_EQ(run(*gen, "/", {{"If-Match", "\"other\""}}).status, 412);
}

// A streaming filter sees the body split at every byte boundary (the store yields one byte per
// part) and its output arrives whole and in order.
TEST_F(PipelineTest, StreamingFiltersSeeEveryPart) {
  registry.add_filter(tag_filter("one", FilterStage::content, true));
  registry.add_filter(tag_filter("two", FilterStage::content, true));
  auto gen = streaming();
  ASSERT_TRUE(gen);
  std::string body;
  Entity e = run(*gen, "/", {}, &body);
  EXPECT_EQ(body, "abcdef|one|two");
  EXPECT_FALSE(e.length);  // the tag filters made the length unknown
}

class WholeBodyFilter final : public Filter {
 public:
  FilterStatus start(RequestContext&, Entity& e, std::unique_ptr<FilterInstance>&) const override {
    std::string text;
    e.body.copy_to(text);
    e.set_body("[" + text + "]", "text/plain");
    return FilterStatus::pass;
  }
};

TEST_F(PipelineTest, WholeBodyFiltersBufferUpToTheLimitThenDoWhatTheyDeclare) {
  FilterRegistration skip;
  skip.name = "whole-skip";
  skip.capabilities.needs_whole_body = true;
  skip.capabilities.over_limit = OverLimit::skip;
  skip.on_by_default = true;
  skip.factory = [](const Scope&, ConfigErrors&) { return std::make_unique<WholeBodyFilter>(); };
  registry.add_filter(std::move(skip));
  FilterRegistration fail = registry.filters().back();
  fail.name = "whole-fail";
  fail.capabilities.over_limit = OverLimit::fail;
  fail.on_by_default = false;
  registry.add_filter(std::move(fail));
  auto gen = streaming(
      "<Location path=\"/tight\"><FilterBufferLimit>3</FilterBufferLimit></Location>"
      "<Location path=\"/strict\"><FilterBufferLimit>3</FilterBufferLimit>"
      "<Filters>whole-fail -whole-skip</Filters></Location>");
  ASSERT_TRUE(gen) << errors.messages().front();
  std::string body;
  Entity fits = run(*gen, "/", {}, &body);
  EXPECT_EQ(body, "[abcdef]");
  EXPECT_EQ(fits.length, 8u);
  run(*gen, "/tight", {}, &body);
  EXPECT_EQ(body, "abcdef");  // left out, and nothing the buffering read is lost
  EXPECT_EQ(run(*gen, "/strict", {}, &body).status, 500);
}

TEST_F(MiddleEndTest, ConstraintsNamingUnknownFiltersAreConfigErrors) {
  auto f = tag_filter("lonely", FilterStage::content, true);
  f.capabilities.after = {"missing"};
  registry.add_filter(std::move(f));
  EXPECT_FALSE(build(R"(<Listen protocol="http1" port="0"/>)"));
  ASSERT_FALSE(errors.messages().empty());
  EXPECT_NE(errors.messages()[0].find("lonely: after missing"), std::string::npos)
      << errors.messages()[0];
}

// Access checks run before the store, in order, and the first refusal is the answer.
class RefuseCheck final : public AccessCheck {
 public:
  explicit RefuseCheck(int status) : status_(status) {}
  Task<bool> check(RequestContext& ctx, Entity& out) const override {
    if (ctx.request.headers.contains("Pass")) {
      co_return true;
    }
    out.set_error(status_);
    co_return false;
  }

 private:
  int status_;
};

TEST_F(PipelineTest, AccessChecksRunBeforeTheStore) {
  registry.add_access("refuse",
                      [](const Scope& scope, ConfigErrors&) -> std::unique_ptr<AccessCheck> {
                        if (answer_of(scope) != "guarded") {
                          return nullptr;
                        }
                        return std::make_unique<RefuseCheck>(403);
                      });
  auto gen = streaming("<Location path=\"/g\"><Answer>guarded</Answer></Location>");
  ASSERT_TRUE(gen);
  std::string body;
  EXPECT_EQ(run(*gen, "/", {}, &body).status, 200);
  EXPECT_EQ(run(*gen, "/g", {}, &body).status, 403);
  EXPECT_EQ(run(*gen, "/g", {{"Pass", "1"}}, &body).status, 200);
  EXPECT_EQ(body, "guarded");
}

// A cache provider for the test: keeps ready bodies by path; counts what the store produced.
struct CacheCounts {
  int stored = 0;
  int hits = 0;
};
CacheCounts cache_counts;

class MapCache final : public CacheProvider {
 public:
  Task<bool> lookup(RequestContext& ctx, Entity& out) const override {
    auto it = entries_.find(ctx.request.path);
    if (it == entries_.end()) {
      co_return false;
    }
    ++cache_counts.hits;
    out.set_body(it->second, "text/plain");
    co_return true;
  }
  Task<void> store(RequestContext& ctx, Entity& entity) const override {
    std::string text;
    if (entity.stream == nullptr && entity.body.copy_to(text)) {
      entries_[ctx.request.path] = text;
      ++cache_counts.stored;
    }
    co_return;
  }

 private:
  mutable std::map<std::string, std::string> entries_;  // a test: one thread
};

TEST_F(MiddleEndTest, CachePhasesSitAroundTheStore) {
  registry.add_cache(
      "map", [](const Scope& scope, ConfigErrors&) -> std::unique_ptr<CacheProvider> {
        return answer_of(scope) == "cache me" ? std::make_unique<MapCache>() : nullptr;
      });
  auto gen = build(R"(<Listen protocol="http1" port="0"/><Answer>cache me</Answer>
    <Location path="/plain"><Answer>not cached</Answer></Location>)");
  ASSERT_TRUE(gen);
  cache_counts = {};
  EXPECT_EQ(answer(*gen, "", "/"), "cache me");
  EXPECT_EQ(cache_counts.stored, 1);
  EXPECT_EQ(cache_counts.hits, 0);
  EXPECT_EQ(answer(*gen, "", "/"), "cache me");  // from the cache: the store was not asked
  EXPECT_EQ(cache_counts.stored, 1);
  EXPECT_EQ(cache_counts.hits, 1);
  int status = 0;
  EXPECT_EQ(answer(*gen, "", "/", Method::get, &status, 6), "me");  // offset after a hit too
  EXPECT_EQ(cache_counts.hits, 2);
  EXPECT_EQ(answer(*gen, "", "/plain"), "not cached");
  EXPECT_EQ(cache_counts.stored, 1);  // no provider in that location
}

// The log phase: every logger the generation built gets each record.
struct LoggedLines {
  std::vector<std::string> lines;
};
LoggedLines logged;

class ListLogger final : public RequestLogger {
 public:
  void log(const AccessRecord& record) override {
    logged.lines.push_back(std::string(record.request_line) + " " + std::to_string(record.status));
  }
};

TEST_F(MiddleEndTest, LoggersAreModulesOfTheLogPhase) {
  registry.add_logger("list", [](const Scope&, ConfigErrors&) -> std::unique_ptr<RequestLogger> {
    return std::make_unique<ListLogger>();
  });
  auto gen = build(R"(<Listen protocol="http1" port="0"/>)");
  ASSERT_TRUE(gen);
  logged = {};
  EXPECT_TRUE(gen->logs_requests());  // AccessLog is off; the test logger is on
  gen->log_request(AccessRecord{.request_line = "GET / HTTP/1.1", .status = 200});
  EXPECT_EQ(logged.lines, std::vector<std::string>{"GET / HTTP/1.1 200"});
}

TEST(HeaderAllowsToken, QValuesAndStar) {
  EXPECT_TRUE(header_allows_token("gzip, br", "br"));
  EXPECT_TRUE(header_allows_token("GZIP;q=0.5", "gzip"));
  EXPECT_FALSE(header_allows_token("gzip;q=0", "gzip"));
  EXPECT_FALSE(header_allows_token("gzip; q=0.000", "gzip"));
  EXPECT_FALSE(header_allows_token("", "gzip"));
  EXPECT_TRUE(header_allows_token("*", "gzip"));
  EXPECT_FALSE(header_allows_token("*, gzip;q=0", "gzip"));
  EXPECT_FALSE(header_allows_token("br, *;q=0", "gzip"));
  EXPECT_FALSE(header_allows_token("gzip;q=x", "gzip"));
}

TEST(ModuleRegistry, ADirectiveWithoutAFieldIsABug) {
  static const Directive kLoose[] = {{.name = "Loose", .type = ArgType::flag}};
  Registry registry;
  EXPECT_THROW(registry.add_module({"loose", ModuleKind::store, "test"}, kLoose), std::logic_error);
}

TEST(FilterOrdering, CycleIsRefused) {
  FilterRegistration a;
  a.name = "a";
  a.capabilities.before = {"b"};
  FilterRegistration b;
  b.name = "b";
  b.capabilities.before = {"a"};
  EXPECT_THROW(order_filters({&a, &b}), std::logic_error);
}

}  // namespace
}  // namespace collage
