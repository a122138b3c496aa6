// RFC 9111's rules as pure functions: Cache-Control parsing (duplicates, bad values, quoting),
// what may be stored, freshness lifetime from each source in order, age, and which stored
// responses may answer which requests; the entry codec refusing damaged bytes; bounded keys.

#include <gtest/gtest.h>

#include "cache_key.h"
#include "entry_codec.h"
#include "freshness.h"

namespace collage::cache {
namespace {

CacheControl parse(std::string_view text) {
  CacheControl cc;
  parse_cache_control(text, cc);
  return cc;
}

TEST(CacheControlTest, DirectivesValuesAndOddities) {
  const CacheControl cc = parse("public, max-age=60, s-maxage=\"30\", no-cache=\"Set-Cookie, X\"");
  EXPECT_TRUE(cc.is_public);
  EXPECT_EQ(cc.max_age, 60);
  EXPECT_EQ(cc.s_maxage, 30);
  EXPECT_TRUE(cc.no_cache);  // the qualified form counts as the whole directive
  EXPECT_FALSE(cc.no_store);
  EXPECT_EQ(parse("MAX-AGE=5").max_age, 5);
  EXPECT_EQ(parse("max-age=abc").max_age, 0);           // not delta-seconds: stale
  EXPECT_EQ(parse("max-age=5, max-age=7").max_age, 0);  // conflicting: stale
  EXPECT_EQ(parse("max-age=5, max-age=5").max_age, 5);
  EXPECT_EQ(parse("max-age=99999999999999999999").max_age, kMaxDeltaSeconds);
  EXPECT_EQ(parse("max-stale").max_stale, kMaxDeltaSeconds);
  EXPECT_FALSE(parse("").max_age.has_value());
}

struct Fixture {
  Request request;
  Entity response;
  StoragePolicy policy;
};

TEST(StorableTest, EachRule) {
  Fixture f;
  f.response.status = 200;
  EXPECT_EQ(not_storable(f.request, {}, f.response, {}, f.policy), nullptr);
  EXPECT_NE(not_storable(f.request, {}, f.response, parse("no-store"), f.policy), nullptr);
  EXPECT_NE(not_storable(f.request, parse("no-store"), f.response, {}, f.policy), nullptr);
  EXPECT_NE(not_storable(f.request, {}, f.response, parse("private"), f.policy), nullptr);
  f.request.method = Method::post;
  EXPECT_NE(not_storable(f.request, {}, f.response, parse("max-age=5"), f.policy), nullptr);
  f.request.method = Method::get;
  f.request.headers.add("Authorization", "Basic x");
  EXPECT_NE(not_storable(f.request, {}, f.response, parse("max-age=5"), f.policy), nullptr);
  EXPECT_EQ(not_storable(f.request, {}, f.response, parse("public"), f.policy), nullptr);
  EXPECT_EQ(not_storable(f.request, {}, f.response, parse("s-maxage=5"), f.policy), nullptr);
  f.request.headers.clear();
  f.response.headers.add("Vary", "Accept, *");
  EXPECT_NE(not_storable(f.request, {}, f.response, {}, f.policy), nullptr);
  f.response.headers.clear();
  f.response.headers.add("Set-Cookie", "a=b");
  EXPECT_NE(not_storable(f.request, {}, f.response, {}, f.policy), nullptr);
  f.policy.store_set_cookie = true;
  EXPECT_EQ(not_storable(f.request, {}, f.response, {}, f.policy), nullptr);
  f.response.headers.clear();
  f.response.status = 500;  // not heuristically cacheable, no explicit freshness
  EXPECT_NE(not_storable(f.request, {}, f.response, {}, f.policy), nullptr);
  EXPECT_EQ(not_storable(f.request, {}, f.response, parse("max-age=5"), f.policy), nullptr);
  f.response.status = 206;
  EXPECT_NE(not_storable(f.request, {}, f.response, parse("max-age=5"), f.policy), nullptr);
}

TEST(FreshnessTest, SourcesInOrder) {
  Fixture f;
  const std::time_t date = 1'700'000'000;
  EXPECT_EQ(freshness_lifetime(f.response, parse("max-age=10, s-maxage=20"), date, f.policy), 20);
  EXPECT_EQ(freshness_lifetime(f.response, parse("max-age=10"), date, f.policy), 10);
  f.response.headers.add("Expires", "Tue, 14 Nov 2023 22:15:00 GMT");  // date + 100
  EXPECT_EQ(freshness_lifetime(f.response, {}, date, f.policy), 100);
  f.response.headers.set("Expires", "0");
  EXPECT_EQ(freshness_lifetime(f.response, {}, date, f.policy), 0);
  f.response.headers.clear();
  f.response.last_modified = date - 1000;
  EXPECT_EQ(freshness_lifetime(f.response, {}, date, f.policy), 100);  // 10% of its age
  f.policy.heuristic_max = 50;
  EXPECT_EQ(freshness_lifetime(f.response, {}, date, f.policy), 50);
  std::vector<std::pair<int, std::int64_t>> table;
  f.policy.default_ttl = [](const void*, int status) -> std::int64_t {
    return status == 200 ? 600 : 0;
  };
  EXPECT_EQ(freshness_lifetime(f.response, {}, date, f.policy), 600);
}

TEST(FreshnessTest, Age) {
  Entity response;
  response.headers.add("Age", "30");
  EXPECT_EQ(corrected_initial_age(response, 1000, 1000, 1002), 32);
  EXPECT_EQ(corrected_initial_age(Entity{}, 900, 1000, 1000), 100);  // Date in the past
  response.headers.set("Age", "junk");
  EXPECT_EQ(corrected_initial_age(response, 1000, 1000, 1000), 0);
}

TEST(UsableTest, RequestAndResponseDirectives) {
  StoredTimes stored;
  stored.response_time = 1000;
  stored.freshness_lifetime = 60;
  EXPECT_EQ(usable(stored, {}, false, 1030), Usable::fresh);
  EXPECT_EQ(usable(stored, {}, false, 1060), Usable::must_revalidate);
  EXPECT_EQ(usable(stored, {}, true, 1030), Usable::must_revalidate);
  EXPECT_EQ(usable(stored, parse("max-age=10"), false, 1030), Usable::must_revalidate);
  EXPECT_EQ(usable(stored, parse("max-age=0"), false, 1000), Usable::must_revalidate);
  EXPECT_EQ(usable(stored, parse("min-fresh=40"), false, 1030), Usable::must_revalidate);
  EXPECT_EQ(usable(stored, parse("max-stale=100"), false, 1100), Usable::stale_allowed);
  EXPECT_EQ(usable(stored, parse("max-stale=10"), false, 1100), Usable::must_revalidate);
  stored.stale_while_revalidate = 100;
  EXPECT_EQ(usable(stored, {}, false, 1100), Usable::stale_revalidating);
  stored.must_revalidate = true;
  EXPECT_EQ(usable(stored, parse("max-stale"), false, 1100), Usable::must_revalidate);
  stored.no_cache = true;
  EXPECT_EQ(usable(stored, {}, false, 1001), Usable::must_revalidate);
}

TEST(EntryCodecTest, RoundTripAndDamage) {
  proto::CacheEntryHead head;
  head.set_key("cgi:/srv/x.py?a=1");
  head.set_status(200);
  head.set_body_length(5);
  std::string bytes = encode_head(head, 5, crc32_update(0, "hello"));
  bytes += "hello";
  proto::CacheEntryHead read;
  std::string_view body;
  ASSERT_TRUE(decode_entry(bytes, read, body));
  EXPECT_EQ(body, "hello");
  EXPECT_EQ(read.key(), head.key());
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    std::string damaged = bytes;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x20);
    EXPECT_FALSE(decode_entry(damaged, read, body)) << "byte " << i;
  }
  EXPECT_FALSE(decode_entry(std::string_view(bytes).substr(0, bytes.size() - 1), read, body));
}

TEST(CacheKeyTest, VariantsAreNormalizedAndBounded) {
  Request a;
  a.headers.add("Accept-Encoding", "gzip, deflate, br");
  Request b;
  b.headers.add("Accept-Encoding", "br;q=1, gzip;q=0.5");
  const std::vector<std::string> names{"accept-encoding"};
  EXPECT_EQ(variant_of(a, names), variant_of(b, names));
  Request c;
  c.headers.add("Accept-Encoding", "gzip");
  EXPECT_NE(variant_of(a, names), variant_of(c, names));
  const std::string huge(100'000, 'x');
  Request d;
  d.headers.add("Accept-Language", huge);
  EXPECT_LT(variant_of(d, {"accept-language"}).size(), 200U);
  Request e;
  e.path = "/" + huge;
  e.host = "example.org";
  EXPECT_LT(url_key(e, KeySpec{}).size(), 200U);
}

}  // namespace
}  // namespace collage::cache
