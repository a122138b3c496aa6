#include "collage/chunked.h"

#include <algorithm>

namespace collage {

ChunkedDecoder::Step ChunkedDecoder::step(std::string_view input) {
  constexpr std::size_t kMaxLine = 4096;
  constexpr std::size_t kMaxTrailers = 8192;
  std::size_t i = 0;
  auto fail = [&] { return Step{Status::error, i, {}}; };
  while (i < input.size()) {
    const unsigned char c = static_cast<unsigned char>(input[i]);
    switch (state_) {
      case State::size: {
        int digit = -1;
        if (c >= '0' && c <= '9') {
          digit = c - '0';
        } else if (c >= 'a' && c <= 'f') {
          digit = c - 'a' + 10;
        } else if (c >= 'A' && c <= 'F') {
          digit = c - 'A' + 10;
        }
        if (digit >= 0) {
          if (++size_digits_ > 15) {
            return fail();  // a chunk of 2^60 bytes is an attack, not an upload
          }
          remaining_ = remaining_ * 16 + static_cast<std::uint64_t>(digit);
          ++i;
          break;
        }
        if (size_digits_ == 0) {
          return fail();
        }
        if (c == ';' || c == ' ' || c == '\t') {
          state_ = State::extension;
          line_bytes_ = static_cast<std::size_t>(size_digits_);
          break;
        }
        if (c != '\r') {
          return fail();
        }
        state_ = State::size_lf;
        ++i;
        break;
      }
      case State::extension:
        if (c == '\r') {
          state_ = State::size_lf;
        } else if (c == '\n' || (c < 0x20 && c != '\t') || c == 0x7f || ++line_bytes_ > kMaxLine) {
          return fail();
        }
        ++i;
        break;
      case State::size_lf:
        if (c != '\n') {
          return fail();
        }
        ++i;
        size_digits_ = 0;
        line_bytes_ = 0;
        if (remaining_ == 0) {
          state_ = State::trailer;
          trailer_line_empty_ = true;
        } else {
          state_ = State::data;
        }
        break;
      case State::data: {
        const std::size_t take =
            static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, input.size() - i));
        remaining_ -= take;
        if (remaining_ == 0) {
          state_ = State::data_cr;
        }
        return Step{Status::data, i + take, input.substr(i, take)};
      }
      case State::data_cr:
        if (c != '\r') {
          return fail();
        }
        state_ = State::data_lf;
        ++i;
        break;
      case State::data_lf:
        if (c != '\n') {
          return fail();
        }
        state_ = State::size;
        ++i;
        break;
      case State::trailer:
        if (c == '\r') {
          state_ = State::trailer_lf;
        } else if (c == '\n' || ++trailer_bytes_ > kMaxTrailers) {
          return fail();
        } else {
          trailer_line_empty_ = false;
        }
        ++i;
        break;
      case State::trailer_lf:
        if (c != '\n') {
          return fail();
        }
        ++i;
        if (trailer_line_empty_) {
          state_ = State::done;
          return Step{Status::done, i, {}};
        }
        trailer_line_empty_ = true;
        state_ = State::trailer;
        break;
      case State::done: return Step{Status::done, i, {}};
    }
  }
  if (state_ == State::done) {
    return Step{Status::done, i, {}};
  }
  return Step{Status::need_more, i, {}};
}

}  // namespace collage
