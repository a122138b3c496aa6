#include "filtered_stream.h"

namespace collage {

Task<StreamStatus> ReadyThenStream::next(Brigade& out, std::size_t limit) {
  if (!ready_done_) {
    const StreamStatus status = co_await ready_.next(out, limit);
    if (status == StreamStatus::more) {
      co_return status;
    }
    ready_done_ = true;
    if (rest_ == nullptr) {
      co_return StreamStatus::end;
    }
    if (!out.empty()) {
      co_return StreamStatus::more;
    }
  }
  if (rest_ == nullptr) {
    co_return StreamStatus::end;
  }
  co_return co_await rest_->next(out, limit);
}

Task<StreamStatus> FilteredStream::next(Brigade& out, std::size_t limit) {
  while (true) {
    in_.clear();
    if (!again_) {
      if (inner_ == nullptr) {
        co_return StreamStatus::end;  // asked again after the end
      }
      const StreamStatus status = co_await inner_->next(in_, limit);
      if (status == StreamStatus::failed) {
        co_return status;
      }
      last_ = status == StreamStatus::end;
      if (last_) {
        inner_.reset();  // the producer is done: let it go before the filter's last call
      }
    }
    const FilterStatus result = co_await filter_->process(in_, last_, out);
    if (result == FilterStatus::failed) {
      co_return StreamStatus::failed;
    }
    again_ = result == FilterStatus::again;
    if (last_ && !again_) {
      co_return StreamStatus::end;
    }
    if (!out.empty()) {
      co_return StreamStatus::more;
    }
  }
}

}  // namespace collage
