#include "stored_entry.h"

#include "entry_codec.h"

namespace collage::cache {

void StoredEntry::append_body(Brigade& out) const {
  if (body_length() == 0) {
    return;
  }
  if (file != nullptr) {
    out.append_file(file, body_offset, body_length());
    return;
  }
  Bucket bucket;
  bucket.bytes = body;
  bucket.keeper = bytes;
  out.append(bucket);
}

namespace {

class BufferWriter final : public EntryWriter {
 public:
  BufferWriter(std::uint64_t hash, std::uint64_t limit, proto::CacheEntryHead head)
      : hash_(hash), limit_(limit), head_(std::move(head)) {}

  bool append(const Brigade& part) override {
    if (body_.size() + part.size() > limit_) {
      return false;
    }
    const std::size_t before = body_.size();
    if (!part.append_to(body_)) {
      return false;
    }
    crc_ = crc32_update(crc_, std::string_view(body_).substr(before));
    return true;
  }

  std::shared_ptr<StoredEntry> commit() override {
    head_.set_body_length(body_.size());
    auto bytes = std::make_shared<std::string>(encode_head(head_, body_.size(), crc_));
    const std::size_t body_at = bytes->size();
    bytes->append(body_);
    auto entry = std::make_shared<StoredEntry>();
    entry->head = std::move(head_);
    entry->hash = hash_;
    entry->body = std::string_view(*bytes).substr(body_at);
    entry->bytes = std::move(bytes);
    return entry;
  }

 private:
  std::uint64_t hash_;
  std::uint64_t limit_;
  proto::CacheEntryHead head_;
  std::string body_;
  std::uint32_t crc_ = 0;
};

}  // namespace

std::unique_ptr<EntryWriter> make_buffer_writer(std::uint64_t hash, std::uint64_t limit,
                                                proto::CacheEntryHead head) {
  return std::make_unique<BufferWriter>(hash, limit, std::move(head));
}

}  // namespace collage::cache
