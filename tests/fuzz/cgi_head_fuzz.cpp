// Fuzzes the CGI/FastCGI header block parser (a script's or application server's output) with
// invariants: a complete head ends just after an empty line inside the input, statuses are
// 200..599, and fields the server owns never pass through.

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "collage/metadata.h"
#include "script_head.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  for (bool nph : {false, true}) {
    collage::gateway::ScriptHead head;
    std::size_t consumed = 0;
    std::string error;
    const auto result = collage::gateway::parse_script_head(input, nph, head, consumed, error);
    if (result == collage::gateway::HeadResult::complete) {
      if (consumed < 1 || consumed > size || input[consumed - 1] != '\n') {
        std::abort();
      }
      if (head.status != 0 && (head.status < 200 || head.status > 599)) {
        std::abort();
      }
      for (const auto& [name, value] : head.fields) {
        if (name.empty() || collage::gateway::is_server_owned_field(name) ||
            value.find('\n') != std::string::npos) {
          std::abort();
        }
      }
    } else if (result == collage::gateway::HeadResult::malformed && error.empty()) {
      std::abort();  // every refusal says why
    }
  }
  return 0;
}
