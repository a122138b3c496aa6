#pragma once
// The HTTP/1.1 front end's settings, built once per configuration generation from its directives.

#include <chrono>
#include <cstdint>

#include "http1_parser.h"

namespace collage::http1 {

struct Settings {
  ParseLimits limits;
  std::size_t max_head_size = 64 * 1024;  // request line plus all fields; 431 beyond
  std::chrono::milliseconds header_timeout{20'000};
  std::chrono::milliseconds keep_alive_timeout{5'000};
  std::chrono::milliseconds body_timeout{60'000};
  std::chrono::milliseconds send_timeout{60'000};
  bool keep_alive = true;
  std::uint64_t max_keep_alive_requests = 1000;  // 0 = unlimited
};

}  // namespace collage::http1
