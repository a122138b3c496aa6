// Fuzzes what an upstream server sends the proxy: the response head (its chunked bodies go through
// the decoder http1_request_fuzz covers). Invariants: a parsed head lies inside the input and its
// fields are views into it.

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "response_head.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace collage::proxy;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  ResponseHead head;
  std::size_t consumed = 0;
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
  }
  return 0;
}
