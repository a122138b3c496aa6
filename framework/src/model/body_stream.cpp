#include "collage/body_stream.h"

#include <algorithm>

namespace collage {

Task<StreamStatus> BrigadeStream::next(Brigade& out, std::size_t limit) {
  const std::uint64_t take = std::min<std::uint64_t>(limit, size_ - offset_);
  out.append_range(body_, offset_, take);
  offset_ += take;
  if (offset_ == size_) {
    body_.clear();  // let go of the file as soon as the last part is handed out
    co_return StreamStatus::end;
  }
  co_return StreamStatus::more;
}

Task<StreamStatus> SkipStream::next(Brigade& out, std::size_t limit) {
  while (true) {
    part_.clear();
    const StreamStatus status = co_await inner_->next(part_, limit);
    if (status == StreamStatus::failed) {
      co_return status;
    }
    const std::uint64_t size = part_.size();
    const std::uint64_t dropped = std::min(skip_, size);
    skip_ -= dropped;
    out.append_range(part_, dropped, size - dropped);
    part_.clear();
    if (status == StreamStatus::end || dropped < size) {
      co_return status;
    }
  }
}

}  // namespace collage
