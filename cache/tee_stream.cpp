#include "tee_stream.h"

namespace collage::cache {

TeeStream::TeeStream(std::unique_ptr<BodyStream> inner, std::unique_ptr<EntryWriter> writer,
                     Sealed sealed, std::function<void()> abandoned)
    : inner_(std::move(inner)),
      writer_(std::move(writer)),
      sealed_(std::move(sealed)),
      abandoned_(std::move(abandoned)) {}

TeeStream::~TeeStream() {
  if (writer_ != nullptr && abandoned_) {
    abandoned_();  // the client left before the end: nothing is stored
  }
}

Task<StreamStatus> TeeStream::next(Brigade& out, std::size_t limit) {
  const std::uint64_t before = out.size();
  const StreamStatus status = co_await inner_->next(out, limit);
  if (writer_ == nullptr) {
    co_return status;
  }
  if (status == StreamStatus::failed || !writer_->append(out.slice(before, out.size() - before))) {
    writer_.reset();
    abandoned_();
    co_return status;
  }
  if (status == StreamStatus::end) {
    std::shared_ptr<StoredEntry> entry = writer_->commit();
    writer_.reset();
    if (entry != nullptr) {
      co_await sealed_(std::move(entry));
    } else {
      abandoned_();
    }
  }
  co_return status;
}

}  // namespace collage::cache
