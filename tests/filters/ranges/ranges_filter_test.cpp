#include "ranges_filter.h"

#include <gtest/gtest.h>

#include <asio/io_context.hpp>

#include "collage/middle_end.h"

namespace collage::ranges {
namespace {

std::vector<ByteRange> ok(std::string_view header, std::uint64_t length) {
  std::vector<ByteRange> out;
  EXPECT_EQ(parse_range(header, length, 100, out), RangeParse::ok) << header;
  return out;
}

RangeParse result(std::string_view header, std::uint64_t length, std::size_t max = 100) {
  std::vector<ByteRange> out;
  return parse_range(header, length, max, out);
}

TEST(ParseRange, Forms) {
  auto r = ok("bytes=0-499", 1000);
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].first, 0u);
  EXPECT_EQ(r[0].last, 499u);
  r = ok("bytes=-500", 1000);
  EXPECT_EQ(r[0].first, 500u);
  EXPECT_EQ(r[0].last, 999u);
  r = ok("bytes=9500-", 10000);
  EXPECT_EQ(r[0].first, 9500u);
  EXPECT_EQ(r[0].last, 9999u);
  r = ok("bytes=0-0, -1", 10000);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].first, 9999u);
  r = ok("bytes=500-600,601-999", 10000);
  EXPECT_EQ(r.size(), 2u);
  r = ok("BYTES=0-5000", 100);  // the last byte is clamped to the length
  EXPECT_EQ(r[0].last, 99u);
  r = ok("bytes=-5000", 100);  // a suffix longer than the entity is the whole entity
  EXPECT_EQ(r[0].first, 0u);
}

TEST(ParseRange, MalformedIsIgnored) {
  EXPECT_EQ(result("bytes=5-1", 100), RangeParse::ignore);
  EXPECT_EQ(result("bytes=x-1", 100), RangeParse::ignore);
  EXPECT_EQ(result("bytes=1", 100), RangeParse::ignore);
  EXPECT_EQ(result("items=0-1", 100), RangeParse::ignore);
  EXPECT_EQ(result("bytes=", 100), RangeParse::ignore);
  EXPECT_EQ(result("bytes=0-1,2-3,4-5", 100, 2), RangeParse::ignore);
}

TEST(ParseRange, Unsatisfiable) {
  EXPECT_EQ(result("bytes=100-200", 100), RangeParse::unsatisfiable);
  EXPECT_EQ(result("bytes=-0", 100), RangeParse::unsatisfiable);
  EXPECT_EQ(result("bytes=0-10", 0), RangeParse::unsatisfiable);
}

class RangesFilterTest : public ::testing::Test {
 protected:
  RangesFilterTest() : services(io.get_executor(), tracker) {
    request.method = Method::get;
    entity.set_body("0123456789", "text/plain");
    entity.etag = "\"e\"";
  }
  FilterStatus run(std::string_view range) {
    request.headers.add("Range", range);
    VirtualHost host;
    Location location;
    RequestContext ctx{request, host, location, services};
    std::unique_ptr<FilterInstance> instance;
    const FilterStatus status = RangesFilter().start(ctx, entity, instance);
    EXPECT_EQ(instance, nullptr);  // whole-body work is done in start()
    return status;
  }
  std::string body() const {
    std::string out;
    for (const Bucket& b : entity.body.buckets()) {
      out += b.bytes;
    }
    return out;
  }
  asio::io_context io;
  ConnectionTracker tracker;
  Services services;
  Request request;
  Entity entity;
};

TEST_F(RangesFilterTest, SingleRangeSlicesTheBody) {
  EXPECT_EQ(run("bytes=3-5"), FilterStatus::pass);
  EXPECT_EQ(entity.status, 206);
  EXPECT_EQ(body(), "345");
  EXPECT_EQ(entity.length, 3u);
  EXPECT_EQ(entity.headers.get("Content-Range"), "bytes 3-5/10");
}

TEST_F(RangesFilterTest, SeveralRangesMakeMultipart) {
  EXPECT_EQ(run("bytes=0-1,8-"), FilterStatus::pass);
  EXPECT_EQ(entity.status, 206);
  EXPECT_TRUE(entity.content_type.starts_with("multipart/byteranges; boundary="));
  const std::string text = body();
  EXPECT_EQ(entity.length, text.size());
  EXPECT_NE(text.find("Content-Type: text/plain\r\nContent-Range: bytes 0-1/10\r\n\r\n01\r\n"),
            std::string::npos);
  EXPECT_NE(text.find("Content-Range: bytes 8-9/10\r\n\r\n89\r\n"), std::string::npos);
}

TEST_F(RangesFilterTest, UnsatisfiableGives416WithLength) {
  EXPECT_EQ(run("bytes=20-30"), FilterStatus::error);
  EXPECT_EQ(entity.status, 416);
  EXPECT_EQ(entity.headers.get("Content-Range"), "bytes */10");
}

TEST_F(RangesFilterTest, IfRangeMismatchServesEverything) {
  request.headers.add("If-Range", "\"old\"");
  EXPECT_EQ(run("bytes=0-1"), FilterStatus::pass);
  EXPECT_EQ(entity.status, 200);
  EXPECT_EQ(body(), "0123456789");
}

TEST(BrigadeSlice, SpansBuckets) {
  Brigade b;
  b.append_static("abc");
  b.append_static("defg");
  b.append_static("hi");
  Brigade s = b.slice(2, 5);
  std::string out;
  for (const Bucket& bucket : s.buckets()) {
    out += bucket.bytes;
  }
  EXPECT_EQ(out, "cdefg");
  EXPECT_EQ(s.buckets().size(), 2u);
  EXPECT_EQ(b.slice(9, 5).size(), 0u);
}

}  // namespace
}  // namespace collage::ranges
