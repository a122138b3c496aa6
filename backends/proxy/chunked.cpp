#include "chunked.h"

#include <algorithm>

namespace collage::proxy {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

constexpr std::size_t kMaxTrailer = 16 * 1024;

}  // namespace

ChunkedDecoder::Result ChunkedDecoder::feed(std::string_view input, std::size_t limit,
                                            std::string& out, std::size_t& consumed) {
  std::size_t i = 0;
  std::size_t given = 0;
  while (i < input.size() && state_ != State::done) {
    const char c = input[i];
    switch (state_) {
      case State::size: {
        const int v = hex_value(c);
        if (v >= 0) {
          if (++digits_ > 15) {
            return Result::bad;
          }
          left_ = left_ * 16 + static_cast<std::uint64_t>(v);
          ++i;
        } else if (digits_ == 0) {
          return Result::bad;
        } else if (c == ';' || c == ' ' || c == '\t') {
          state_ = State::extension;
          ++i;
        } else if (c == '\r') {
          state_ = State::size_lf;
          ++i;
        } else {
          return Result::bad;
        }
        break;
      }
      case State::extension:
        if (c == '\r') {
          state_ = State::size_lf;
        } else if (c == '\n') {
          return Result::bad;
        }
        if (++trailer_bytes_ > kMaxTrailer) {
          return Result::bad;
        }
        ++i;
        break;
      case State::size_lf:
        if (c != '\n') {
          return Result::bad;
        }
        ++i;
        digits_ = 0;
        state_ = left_ == 0 ? State::trailer : State::data;
        break;
      case State::data: {
        if (given >= limit) {
          consumed = i;
          return Result::more;
        }
        const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(
            {left_, std::uint64_t{input.size() - i}, std::uint64_t{limit - given}}));
        out.append(input.substr(i, n));
        given += n;
        i += n;
        left_ -= n;
        if (left_ == 0) {
          state_ = State::data_cr;
        }
        break;
      }
      case State::data_cr:
        if (c != '\r') {
          return Result::bad;
        }
        ++i;
        state_ = State::data_lf;
        break;
      case State::data_lf:
        if (c != '\n') {
          return Result::bad;
        }
        ++i;
        state_ = State::size;
        break;
      case State::trailer:  // at the start of a trailer line: CR ends the body
        if (c == '\r') {
          state_ = State::trailer_lf;
        } else {
          state_ = State::trailer_line;
        }
        ++i;
        if (++trailer_bytes_ > kMaxTrailer) {
          return Result::bad;
        }
        break;
      case State::trailer_line:
        if (c == '\n') {
          state_ = State::trailer;
        }
        ++i;
        if (++trailer_bytes_ > kMaxTrailer) {
          return Result::bad;
        }
        break;
      case State::trailer_lf:
        if (c != '\n') {
          return Result::bad;
        }
        ++i;
        state_ = State::done;
        break;
      case State::done: break;
    }
  }
  consumed = i;
  return state_ == State::done ? Result::done : Result::more;
}

}  // namespace collage::proxy
