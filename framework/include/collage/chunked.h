#pragma once
// The chunked transfer coding (RFC 9112 §7.1), read incrementally: request bodies (HTTP/1.1 front
// end) and upstream responses (proxy store) alike.

#include <cstdint>
#include <string_view>

namespace collage {

// Decodes the chunked transfer coding (RFC 9112 §7.1) incrementally, strictly: CRLF line ends,
// hexadecimal sizes without overflow, bounded extensions and trailers.
class ChunkedDecoder {
 public:
  enum class Status : std::uint8_t { need_more, data, done, error };
  struct Step {
    Status status = Status::need_more;
    std::size_t consumed = 0;  // bytes of input used, whatever the status
    std::string_view data;     // status == data: body bytes (a view into input)
  };
  // Feed what is buffered; call again with the rest after consuming `consumed` bytes.
  Step step(std::string_view input);
  bool done() const { return state_ == State::done; }
  // Returns the last n bytes of the data just stepped over (the caller could not take them all);
  // they come back from the next step().
  void give_back(std::size_t n) {
    remaining_ += n;
    state_ = State::data;
  }

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
    done
  };
  State state_ = State::size;
  std::uint64_t remaining_ = 0;
  int size_digits_ = 0;
  std::size_t line_bytes_ = 0;     // bytes in the current size or trailer line
  std::size_t trailer_bytes_ = 0;  // whole trailer section
  bool trailer_line_empty_ = true;
};

}  // namespace collage
