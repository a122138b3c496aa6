// Fuzzes what an upstream server sends the proxy: the response head, then the rest as a chunked
// body fed in pieces. Invariants: a parsed head lies inside the input, its fields are views into
// it, a length body's length is what Content-Length said; the chunked decoder never gives more
// bytes than it consumed and never more than the limit per call.

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "chunked.h"
#include "response_head.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace collage::proxy;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  ResponseHead head;
  std::size_t consumed = 0;
  std::string_view rest = input;
  if (parse_response_head(input, false, head, consumed) == HeadParse::done) {
    if (consumed > input.size()) {
      std::abort();
    }
    for (const auto& [name, value] : head.fields) {
      if (name.data() < input.data() || name.data() + name.size() > input.data() + consumed ||
          value.data() < input.data() || value.data() + value.size() > input.data() + consumed) {
        std::abort();
      }
    }
    rest = input.substr(consumed);
  }
  ChunkedDecoder decoder;
  std::string body;
  std::size_t limit = 1 + (size % 7);
  while (!rest.empty()) {
    const std::size_t before = body.size();
    std::size_t used = 0;
    const ChunkedDecoder::Result result =
        decoder.feed(rest.substr(0, 1 + rest.size() % 5), limit, body, used);
    if (body.size() - before > limit || body.size() - before > used) {
      std::abort();
    }
    rest.remove_prefix(used);
    if (result != ChunkedDecoder::Result::more || used == 0) {
      break;
    }
  }
  return 0;
}
