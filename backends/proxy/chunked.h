#pragma once
// Decodes a chunked body (RFC 9112 §7.1) as it arrives, in pieces of any size: chunk sizes in
// hex (at most 15 digits), extensions skipped, trailer fields read and dropped.

#include <cstdint>
#include <string>
#include <string_view>

namespace collage::proxy {

class ChunkedDecoder {
 public:
  enum class Result : std::uint8_t { more, done, bad };
  // Consumes what it can of `input` (setting `consumed`), appending body bytes to `out`, at
  // most `limit` of them per call.
  Result feed(std::string_view input, std::size_t limit, std::string& out, std::size_t& consumed);

 private:
  enum class State : std::uint8_t {
    size,
    extension,
    size_lf,
    data,
    data_cr,
    data_lf,
    trailer,
    trailer_lf,
    trailer_line,
    done
  };
  State state_ = State::size;
  std::uint64_t left_ = 0;
  int digits_ = 0;
  std::size_t trailer_bytes_ = 0;
};

}  // namespace collage::proxy
