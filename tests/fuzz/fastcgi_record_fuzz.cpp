// Fuzzes the FastCGI record reader with what an application server could send. Invariants: each
// record lies inside the input and moves forward; END_REQUEST parsing stays inside its content;
// a record written from a parsed one parses back the same.

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fastcgi_record.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace collage::fastcgi;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  while (true) {
    Record record;
    std::size_t consumed = 0;
    if (parse_record(input, record, consumed) != ParseResult::record) {
      break;
    }
    if (consumed < kHeaderSize || consumed > input.size() || record.content.size() > kMaxContent ||
        record.content.data() < input.data() ||
        record.content.data() + record.content.size() > input.data() + input.size()) {
      std::abort();
    }
    std::uint32_t app = 0;
    std::uint8_t protocol = 0;
    if (record.type == kEndRequest) {
      parse_end_request(record.content, app, protocol);
    }
    std::string again;
    append_record(static_cast<RecordType>(record.type), record.request_id, record.content, again);
    Record back;
    std::size_t back_size = 0;
    if (parse_record(again, back, back_size) != ParseResult::record || back_size != again.size() ||
        back.content != record.content || back.type != record.type ||
        back.request_id != record.request_id) {
      std::abort();
    }
    input.remove_prefix(consumed);
  }
  return 0;
}
