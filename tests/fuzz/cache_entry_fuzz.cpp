// Fuzzes what the cache reads back from memcached and from entry files (entry_codec.h), and the
// Cache-Control parser. Invariants: an accepted entry's body lies inside the input and has the
// length its head declares; an accepted entry, encoded again, decodes to the same body; parsed
// delta seconds stay within [0, 2^31].

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "entry_codec.h"
#include "freshness.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace collage::cache;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  collage::proto::CacheEntryHead head;
  std::string_view body;
  if (decode_entry(input, head, body)) {
    if (body.data() < input.data() || body.data() + body.size() != input.data() + input.size() ||
        body.size() != head.body_length()) {
      std::abort();
    }
    // Encoded again, it must decode again to the same body.
    std::string again = encode_head(head, body.size(), crc32_update(0, body));
    again.append(body);
    collage::proto::CacheEntryHead head2;
    std::string_view body2;
    if (!decode_entry(again, head2, body2) || body2 != body) {
      std::abort();
    }
  }
  CacheControl cc;
  parse_cache_control(input, cc);
  for (const auto& value : {cc.max_age, cc.s_maxage, cc.stale_while_revalidate, cc.stale_if_error,
                            cc.min_fresh, cc.max_stale}) {
    if (value && (*value < 0 || *value > kMaxDeltaSeconds)) {
      std::abort();
    }
  }
  return 0;
}
