#pragma once
// FTP's own metric families: sessions, and transfers by direction and how they ended.

#include <cstdint>

namespace collage::ftp {

void count_session();
void count_transfer(bool outgoing, bool complete, std::uint64_t bytes);

}  // namespace collage::ftp
