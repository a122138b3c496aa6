#pragma once
// The HTTP/2 front end's settings, built once per configuration generation from its directives.

#include <chrono>
#include <cstdint>

namespace collage::http2 {

struct Settings {
  std::uint32_t max_concurrent_streams = 128;
  std::uint32_t initial_window_size = 65535;       // per stream, what we advertise
  std::uint32_t connection_window_size = 1 << 20;  // for the whole connection
  std::uint32_t max_header_list_size = 64 * 1024;
  std::chrono::milliseconds idle_timeout{60'000};   // no stream open
  std::chrono::milliseconds stall_timeout{30'000};  // streams open, nothing moves
  std::chrono::milliseconds body_timeout{60'000};   // a store waiting for request body data
  std::uint64_t reset_burst = 1000;                 // RST_STREAM token bucket (rapid reset)
  std::uint64_t reset_rate = 33;                    // tokens per second
  std::uint32_t max_empty_frames = 64;              // empty DATA frames without END_STREAM
};

}  // namespace collage::http2
