#pragma once
// The request body as a store reads it: Content-Length or chunked framing removed, the location's
// size limit applied, "100 Continue" sent on the first read when the client expects it.

#include <cstdint>
#include <optional>

#include "collage/request.h"
#include "http1_parser.h"

namespace collage::http1 {

class Connection;

class Body final : public BodySource {
 public:
  Body() = default;
  // The connection reading this body; set each time the body's request state is lent out.
  void attach(Connection& connection) { connection_ = &connection; }

  void start(const RequestHead& head, std::uint64_t limit);
  Task<BodyRead> read(std::span<char> into) override;
  std::optional<std::uint64_t> declared_length() const override { return declared_; }
  // True when the whole body has been read (or there was none), so the connection can be reused.
  bool complete() const { return complete_; }

  // What became of a body the store left unread.
  enum class Discard : std::uint8_t { done, malformed, cut_off };
  // Reads and drops what is left of the body, at most `limit` bytes more, so the connection can
  // carry the next request (as nginx and httpd do for a GET with a body). A client that still
  // waits for "100 Continue" is not asked for its body: cut_off.
  Task<Discard> discard(std::uint64_t limit);

 private:
  Task<BodyRead> read_chunked(std::span<char> into);
  BodyRead fail(BodyError error) {
    error_ = error;
    return {0, error};
  }

  Connection* connection_ = nullptr;
  std::optional<std::uint64_t> declared_;
  std::uint64_t remaining_ = 0;  // Content-Length bodies
  std::uint64_t received_ = 0;
  std::uint64_t limit_ = 0;
  bool chunked_ = false;
  bool continue_pending_ = false;
  bool complete_ = true;
  BodyError error_ = BodyError::none;
  ChunkedDecoder decoder_;
};

}  // namespace collage::http1
