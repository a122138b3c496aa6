#pragma once
// HTTP/2's own metric families: streams opened, and streams reset by each side.

namespace collage::http2 {

void count_stream();
void count_reset(bool by_client);

}  // namespace collage::http2
