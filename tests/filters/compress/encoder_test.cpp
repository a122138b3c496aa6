// The content codings: whatever way the input is split, the output decodes to the input.

#include <brotli/decode.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include "encoder.h"

namespace collage::compress {
namespace {

std::string gunzip(const std::string& data) {
  z_stream s{};
  EXPECT_EQ(inflateInit2(&s, 15 + 16), Z_OK);
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  s.avail_in = static_cast<uInt>(data.size());
  std::string out;
  int rc = Z_OK;
  while (rc == Z_OK) {
    char buffer[4096];
    s.next_out = reinterpret_cast<Bytef*>(buffer);
    s.avail_out = sizeof buffer;
    rc = inflate(&s, Z_NO_FLUSH);
    out.append(buffer, sizeof buffer - s.avail_out);
  }
  EXPECT_EQ(rc, Z_STREAM_END);
  inflateEnd(&s);
  return out;
}

std::string unbrotli(const std::string& data) {
  std::string out(1 << 20, '\0');
  std::size_t size = out.size();
  EXPECT_EQ(BrotliDecoderDecompress(data.size(), reinterpret_cast<const std::uint8_t*>(data.data()),
                                    &size, reinterpret_cast<std::uint8_t*>(out.data())),
            BROTLI_DECODER_RESULT_SUCCESS);
  out.resize(size);
  return out;
}

std::string sample() {
  std::string text;
  for (int i = 0; i < 40; ++i) {
    text += "<p>line " + std::to_string(i * 7919 % 1000) + " of a page</p>\n";
  }
  return text;
}

TEST(Encoder, EverySplitDecodesToTheInput) {
  const std::string input = sample();
  for (Coding coding : {Coding::gzip, Coding::br}) {
    for (std::size_t cut = 0; cut <= input.size(); cut += 7) {
      auto encoder = make_encoder(coding, coding == Coding::gzip ? 6 : 4);
      ASSERT_NE(encoder, nullptr);
      std::string out;
      ASSERT_TRUE(encoder->encode(std::string_view(input).substr(0, cut), false, out));
      ASSERT_TRUE(encoder->encode(std::string_view(input).substr(cut), true, out));
      EXPECT_LT(out.size(), input.size());
      EXPECT_EQ(coding == Coding::gzip ? gunzip(out) : unbrotli(out), input)
          << coding_name(coding) << " split at " << cut;
    }
  }
}

TEST(Encoder, ManySmallPiecesAndAnEmptyBody) {
  const std::string input = sample();
  for (Coding coding : {Coding::gzip, Coding::br}) {
    auto encoder = make_encoder(coding, 1);
    std::string out;
    for (char c : input) {
      ASSERT_TRUE(encoder->encode(std::string_view(&c, 1), false, out));
    }
    ASSERT_TRUE(encoder->encode({}, true, out));
    EXPECT_EQ(coding == Coding::gzip ? gunzip(out) : unbrotli(out), input);
    auto empty = make_encoder(coding, 1);
    std::string nothing;
    ASSERT_TRUE(empty->encode({}, true, nothing));
    EXPECT_EQ(coding == Coding::gzip ? gunzip(nothing) : unbrotli(nothing), "");
  }
}

}  // namespace
}  // namespace collage::compress
