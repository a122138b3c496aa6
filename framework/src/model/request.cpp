#include "collage/request.h"

#include <unistd.h>

#include <random>

namespace collage {

void Request::assign_id() {
  // A per-thread sequence through a 64-bit mixing function (splitmix64): unique within the
  // thread for 2^64 requests, and seeded apart per thread and process.
  thread_local std::uint64_t state = (static_cast<std::uint64_t>(std::random_device{}()) << 32) ^
                                     static_cast<std::uint64_t>(::getpid()) ^
                                     reinterpret_cast<std::uintptr_t>(&state);
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  z ^= z >> 31;
  static constexpr char kHex[] = "0123456789abcdef";
  for (std::size_t i = id.size(); i-- > 0; z >>= 4) {
    id[i] = kHex[z & 15];
  }
}

}  // namespace collage
