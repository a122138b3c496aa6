// Fuzzes the HTTP/1.1 request head parser and the chunked body decoder with what a client could
// send. Invariants: a parsed head's views lie inside the input; a chunked body never yields more
// bytes than it consumed, and consumption moves forward until it is done or refused.

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "http1_parser.h"

namespace {

bool inside(std::string_view part, std::string_view whole) {
  return part.empty() ||
         (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace collage::http1;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t end = find_head_end(input);
  if (end > input.size()) {
    std::abort();
  }
  std::string_view rest = input;
  if (end > 0) {
    const std::string_view block = input.substr(0, end);
    RequestHead head;
    const ParseError error = parse_request_head(block, ParseLimits{}, head);
    if (error.status == 0) {
      for (const std::string_view view :
           {head.request_line, head.method_token, head.target, head.path, head.query, head.host}) {
        if (!inside(view, block)) {
          std::abort();
        }
      }
      for (const auto& [name, value] : head.headers.fields()) {
        if (!inside(name, block) || !inside(value, block)) {
          std::abort();
        }
      }
    } else if (error.status < 400 || error.status > 599) {
      std::abort();
    }
    rest = input.substr(end);
  }
  collage::ChunkedDecoder decoder;
  while (!rest.empty()) {
    const collage::ChunkedDecoder::Step step = decoder.step(rest.substr(0, 1 + rest.size() % 7));
    if (step.consumed > rest.size() || step.data.size() > step.consumed) {
      std::abort();
    }
    if (step.status == collage::ChunkedDecoder::Status::error ||
        step.status == collage::ChunkedDecoder::Status::done || step.consumed == 0) {
      break;
    }
    rest.remove_prefix(step.consumed);
  }
  return 0;
}
