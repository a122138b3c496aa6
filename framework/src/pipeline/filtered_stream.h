#pragma once
// Streams the pipeline builds around a store's body: a ready part followed by a stream, and a
// stream passed through one filter instance.

#include <memory>

#include "collage/body_stream.h"
#include "collage/filter.h"

namespace collage {

// The ready brigade (in parts of at most the limit), then every part of `rest` (may be null).
class ReadyThenStream final : public BodyStream {
 public:
  ReadyThenStream(Brigade ready, std::unique_ptr<BodyStream> rest)
      : ready_(std::move(ready)), rest_(std::move(rest)) {}
  Task<StreamStatus> next(Brigade& out, std::size_t limit) override;

 private:
  BrigadeStream ready_;
  std::unique_ptr<BodyStream> rest_;
  bool ready_done_ = false;
};

// Pulls parts from `inner` and passes each through the filter instance until it yields output.
class FilteredStream final : public BodyStream {
 public:
  // `again_last`: the filter already said `again` to its last call (the whole body was given).
  FilteredStream(std::unique_ptr<BodyStream> inner, std::unique_ptr<FilterInstance> filter,
                 bool again_last = false)
      : inner_(std::move(inner)),
        filter_(std::move(filter)),
        again_(again_last),
        last_(again_last) {}
  Task<StreamStatus> next(Brigade& out, std::size_t limit) override;

 private:
  std::unique_ptr<BodyStream> inner_;
  std::unique_ptr<FilterInstance> filter_;
  Brigade in_;
  bool again_ = false;  // the filter has output waiting: call it before pulling more input
  bool last_ = false;   // the input has ended
};

}  // namespace collage
