#pragma once
// Keeps a body in a tier as the front end pulls it: each part goes to the client and to the
// entry's writer; the entry is sealed when the body ends, dropped if it breaks off, grows past
// the entry limit or the client goes away. Memory stays one part, whatever the body's size.

#include <functional>
#include <memory>

#include "collage/body_stream.h"
#include "stored_entry.h"

namespace collage::cache {

class TeeStream final : public BodyStream {
 public:
  // `sealed` runs once: with the entry when it is complete, with null when it was given up.
  using Sealed = std::function<Task<void>(std::shared_ptr<StoredEntry>)>;
  TeeStream(std::unique_ptr<BodyStream> inner, std::unique_ptr<EntryWriter> writer, Sealed sealed,
            std::function<void()> abandoned);
  ~TeeStream() override;
  Task<StreamStatus> next(Brigade& out, std::size_t limit) override;

 private:
  std::unique_ptr<BodyStream> inner_;
  std::unique_ptr<EntryWriter> writer_;
  Sealed sealed_;
  std::function<void()> abandoned_;  // runs instead when the entry is given up
};

}  // namespace collage::cache
