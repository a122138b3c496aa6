#pragma once
// Streaming content codings (RFC 9110 §8.4.1): gzip through zlib, br through libbrotli. Each
// encoder takes input in pieces and appends what it has made so far, holding only its own
// window and state between calls.

#include <memory>
#include <string>
#include <string_view>

namespace collage::compress {

enum class Coding : std::uint8_t { gzip, br };

std::string_view coding_name(Coding coding);

class Encoder {
 public:
  virtual ~Encoder() = default;
  // Compresses `input` and appends the output made so far to `out`; with `finish`, ends the
  // stream (flushes everything and writes the trailer). False on an encoder error.
  virtual bool encode(std::string_view input, bool finish, std::string& out) = 0;
};

// `level`: 1..9 for gzip, 0..11 for br. Null if the library could not set up its state.
std::unique_ptr<Encoder> make_encoder(Coding coding, int level);

}  // namespace collage::compress
