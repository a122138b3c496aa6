#include "encoder.h"

#include <brotli/encode.h>
#include <zlib.h>

#include <cstdint>

namespace collage::compress {
namespace {

constexpr std::size_t kOutputStep = 16 * 1024;

class GzipEncoder final : public Encoder {
 public:
  bool start(int level) {
    // windowBits 15 + 16: a gzip wrapper; memLevel 8, zlib's default (about 256 KiB of state).
    return deflateInit2(&stream_, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
  }
  ~GzipEncoder() override { deflateEnd(&stream_); }

  bool encode(std::string_view input, bool finish, std::string& out) override {
    stream_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(input.data()));
    stream_.avail_in = static_cast<uInt>(input.size());
    const int flush = finish ? Z_FINISH : Z_NO_FLUSH;
    while (true) {
      const std::size_t before = out.size();
      out.resize(before + kOutputStep);
      stream_.next_out = reinterpret_cast<Bytef*>(out.data() + before);
      stream_.avail_out = static_cast<uInt>(kOutputStep);
      const int result = deflate(&stream_, flush);
      out.resize(before + kOutputStep - stream_.avail_out);
      if (result == Z_STREAM_ERROR) {
        return false;
      }
      if (finish ? result == Z_STREAM_END : (stream_.avail_in == 0 && stream_.avail_out != 0)) {
        return true;
      }
    }
  }

 private:
  z_stream stream_{};
};

class BrotliEncoder final : public Encoder {
 public:
  bool start(int level) {
    state_ = BrotliEncoderCreateInstance(nullptr, nullptr, nullptr);
    if (state_ == nullptr) {
      return false;
    }
    BrotliEncoderSetParameter(state_, BROTLI_PARAM_QUALITY, static_cast<std::uint32_t>(level));
    // A 1 MiB window instead of 4 MiB: web responses rarely gain from more, memory per stream does.
    BrotliEncoderSetParameter(state_, BROTLI_PARAM_LGWIN, 20);
    return true;
  }
  ~BrotliEncoder() override {
    if (state_ != nullptr) {
      BrotliEncoderDestroyInstance(state_);
    }
  }

  bool encode(std::string_view input, bool finish, std::string& out) override {
    const auto* next_in = reinterpret_cast<const std::uint8_t*>(input.data());
    std::size_t available_in = input.size();
    const BrotliEncoderOperation op = finish ? BROTLI_OPERATION_FINISH : BROTLI_OPERATION_PROCESS;
    while (true) {
      const std::size_t before = out.size();
      out.resize(before + kOutputStep);
      auto* next_out = reinterpret_cast<std::uint8_t*>(out.data() + before);
      std::size_t available_out = kOutputStep;
      if (!BrotliEncoderCompressStream(state_, op, &available_in, &next_in, &available_out,
                                       &next_out, nullptr)) {
        return false;
      }
      out.resize(before + kOutputStep - available_out);
      const bool pending = BrotliEncoderHasMoreOutput(state_) != 0;
      if (finish ? BrotliEncoderIsFinished(state_) != 0 : (available_in == 0 && !pending)) {
        return true;
      }
    }
  }

 private:
  BrotliEncoderState* state_ = nullptr;
};

}  // namespace

std::string_view coding_name(Coding coding) {
  return coding == Coding::gzip ? "gzip" : "br";
}

std::unique_ptr<Encoder> make_encoder(Coding coding, int level) {
  if (coding == Coding::gzip) {
    auto encoder = std::make_unique<GzipEncoder>();
    return encoder->start(level) ? std::move(encoder) : nullptr;
  }
  auto encoder = std::make_unique<BrotliEncoder>();
  return encoder->start(level) ? std::move(encoder) : nullptr;
}

}  // namespace collage::compress
