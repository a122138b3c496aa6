#include "file_tier.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <vector>

#include <fmt/format.h>
#include "collage/log.h"
#include "entry_codec.h"

namespace collage::cache {
namespace {

constexpr std::size_t kReadChunk = 64 * 1024;

bool pread_all(int fd, char* into, std::size_t length, std::uint64_t offset) {
  while (length > 0) {
    const ssize_t n = ::pread(fd, into, length, static_cast<off_t>(offset));
    if (n <= 0) {
      if (n < 0 && errno == EINTR) {
        continue;
      }
      return false;
    }
    into += n;
    length -= static_cast<std::size_t>(n);
    offset += static_cast<std::uint64_t>(n);
  }
  return true;
}

bool pwrite_all(int fd, std::string_view bytes, std::uint64_t offset) {
  while (!bytes.empty()) {
    const ssize_t n = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return false;
    }
    bytes.remove_prefix(static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
  return true;
}

bool parse_hash(const char* name, std::uint64_t& hash) {
  if (std::strlen(name) != 16) {
    return false;
  }
  hash = 0;
  for (int i = 0; i < 16; ++i) {
    const char c = name[i];
    const int digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (digit < 0) {
      return false;
    }
    hash = (hash << 4) | static_cast<std::uint64_t>(digit);
  }
  return true;
}

std::string temp_name(const std::string& directory) {
  static std::atomic<std::uint64_t> counter{0};
  return fmt::format("{}/.tmp-{}-{}", directory, ::getpid(), counter.fetch_add(1));
}

class FileWriter final : public EntryWriter {
 public:
  FileWriter(FileTier& tier, std::uint64_t hash, std::uint64_t limit, proto::CacheEntryHead head,
             std::string temp, int fd)
      : tier_(tier),
        hash_(hash),
        limit_(limit),
        head_(std::move(head)),
        temp_(std::move(temp)),
        fd_(fd) {
    head_.set_body_length(0);
    head_size_ = encode_head(head_, 0, 0).size();
    ok_ = ::ftruncate(fd_, static_cast<off_t>(head_size_)) == 0;
  }

  ~FileWriter() override {
    if (fd_ >= 0) {
      ::close(fd_);
      ::unlink(temp_.c_str());  // never committed: no partial entry is left behind
    }
  }

  bool append(const Brigade& part) override {
    if (!ok_ || length_ + part.size() > limit_) {
      return ok_ = false;
    }
    std::string scratch;
    for (const Bucket& bucket : part.buckets()) {
      std::string_view bytes = bucket.bytes;
      if (bucket.kind == Bucket::Kind::file) {
        scratch.resize(bucket.length);
        if (!pread_all(bucket.file->fd(), scratch.data(), bucket.length, bucket.offset)) {
          return ok_ = false;
        }
        bytes = scratch;
      }
      if (!pwrite_all(fd_, bytes, head_size_ + length_)) {
        COLLAGE_LOG(LogLevel::warn, "COL-CACHE-0003",
                    "the {} tier could not write an entry in {}: {} (not stored; served anyway)",
                    tier_.name(), tier_.directory(), std::strerror(errno));
        return ok_ = false;
      }
      crc_ = crc32_update(crc_, bytes);
      length_ += bytes.size();
    }
    return true;
  }

  std::shared_ptr<StoredEntry> commit() override {
    if (!ok_) {
      return nullptr;
    }
    head_.set_body_length(length_);
    const std::string prefix = encode_head(head_, length_, crc_);
    if (prefix.size() != head_size_ || !pwrite_all(fd_, prefix, 0)) {
      return nullptr;
    }
    const std::string final_path = fmt::format("{}/{:016x}", tier_.directory(), hash_);
    struct stat old {};
    const std::int64_t old_size =
        ::stat(final_path.c_str(), &old) == 0 ? static_cast<std::int64_t>(old.st_size) : 0;
    if (::rename(temp_.c_str(), final_path.c_str()) != 0) {
      return nullptr;
    }
    auto entry = std::make_shared<StoredEntry>();
    entry->head = std::move(head_);
    entry->hash = hash_;
    entry->file = std::make_shared<const FileHandle>(fd_);
    fd_ = -1;
    entry->body_offset = head_size_;
    entry->tier = &tier_;
    tier_.account(hash_, static_cast<std::int64_t>(head_size_ + length_), old_size);
    entry->version = tier_.index().version(hash_);
    entry->epoch = tier_.index().epoch();
    return entry;
  }

 private:
  FileTier& tier_;
  std::uint64_t hash_;
  std::uint64_t limit_;
  proto::CacheEntryHead head_;
  std::string temp_;
  int fd_;
  std::size_t head_size_ = 0;
  std::uint64_t length_ = 0;
  std::uint32_t crc_ = 0;
  bool ok_ = true;
};

}  // namespace

FileTier::FileTier(std::string name, std::string directory, std::uint64_t max_bytes)
    : name_(std::move(name)), directory_(std::move(directory)), max_bytes_(max_bytes) {}

bool FileTier::ready() {
  if (!attempted_.load(std::memory_order_acquire) && !may_create_.load(std::memory_order_relaxed) &&
      ::access((directory_ + "/index").c_str(), F_OK) != 0) {
    return false;  // nobody caches into it yet
  }
  std::call_once(opened_, [this] {
    // mkdir -p, one level at a time.
    for (std::size_t slash = 1; slash != std::string::npos;
         slash = directory_.find('/', slash + 1)) {
      ::mkdir(directory_.substr(0, slash).c_str(), 0700);
    }
    ::mkdir(directory_.c_str(), 0700);
    std::string error;
    index_ = SharedIndex::open(directory_ + "/index", error);
    if (index_ == nullptr) {
      COLLAGE_LOG(LogLevel::error, "COL-CACHE-0001", "the {} tier is off: {}", name_, error);
    }
    attempted_.store(true, std::memory_order_release);
  });
  return index_ != nullptr;
}

std::string FileTier::path_of(std::uint64_t hash) const {
  return fmt::format("{}/{:016x}", directory_, hash);
}

std::shared_ptr<StoredEntry> FileTier::load(std::uint64_t hash) {
  const std::uint64_t version = index_->version(hash);
  const std::uint64_t epoch = index_->epoch();
  const std::string path = path_of(hash);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOATIME);
  const int any_fd = fd >= 0 ? fd : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (any_fd < 0) {
    return nullptr;
  }
  auto file = std::make_shared<const FileHandle>(any_fd);
  struct stat st {};
  char prefix_bytes[kPrefixSize];
  EntryPrefix prefix;
  auto entry = std::make_shared<StoredEntry>();
  const char* damage = nullptr;
  if (::fstat(any_fd, &st) != 0 || !pread_all(any_fd, prefix_bytes, kPrefixSize, 0) ||
      !decode_prefix(std::string_view(prefix_bytes, kPrefixSize), prefix)) {
    damage = "not an entry of this format";
  } else if (static_cast<std::uint64_t>(st.st_size) !=
             kPrefixSize + prefix.head_length + prefix.body_length) {
    damage = "its length does not match its head";
  } else {
    std::string head_bytes(prefix.head_length, '\0');
    if (!pread_all(any_fd, head_bytes.data(), head_bytes.size(), kPrefixSize) ||
        !decode_head(head_bytes, prefix, entry->head)) {
      damage = "its head is damaged";
    } else {
      // The body's checksum, once per process per entry (later hits reuse the open entry).
      std::string chunk(std::min<std::uint64_t>(kReadChunk, prefix.body_length), '\0');
      std::uint32_t crc = 0;
      std::uint64_t offset = kPrefixSize + prefix.head_length;
      std::uint64_t left = prefix.body_length;
      while (left > 0 && damage == nullptr) {
        const std::size_t n = std::min<std::uint64_t>(left, chunk.size());
        if (!pread_all(any_fd, chunk.data(), n, offset)) {
          damage = "its body could not be read";
        }
        crc = crc32_update(crc, std::string_view(chunk).substr(0, n));
        offset += n;
        left -= n;
      }
      if (damage == nullptr && crc != prefix.body_crc) {
        damage = "its body's checksum does not match";
      }
    }
  }
  if (damage != nullptr) {
    COLLAGE_LOG(LogLevel::warn, "COL-CACHE-0002", "the {} tier dropped {}: {}", name_, path,
                damage);
    index_->count(Counter::errors);
    remove(hash);
    return nullptr;
  }
  entry->hash = hash;
  entry->file = std::move(file);
  entry->body_offset = kPrefixSize + prefix.head_length;
  entry->tier = this;
  entry->version = version;
  entry->epoch = epoch;
  return entry;
}

std::unique_ptr<EntryWriter> FileTier::begin(std::uint64_t hash, std::uint64_t limit,
                                             proto::CacheEntryHead head) {
  std::string temp = temp_name(directory_);
  const int fd = ::open(temp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return nullptr;
  }
  return std::make_unique<FileWriter>(*this, hash, limit, std::move(head), std::move(temp), fd);
}

std::shared_ptr<StoredEntry> FileTier::put(std::uint64_t hash, std::string_view encoded) {
  const std::string temp = temp_name(directory_);
  const int fd = ::open(temp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return nullptr;
  }
  const std::string final_path = path_of(hash);
  struct stat old {};
  const std::int64_t old_size =
      ::stat(final_path.c_str(), &old) == 0 ? static_cast<std::int64_t>(old.st_size) : 0;
  if (!pwrite_all(fd, encoded, 0) || ::rename(temp.c_str(), final_path.c_str()) != 0) {
    ::close(fd);
    ::unlink(temp.c_str());
    return nullptr;
  }
  ::close(fd);
  account(hash, static_cast<std::int64_t>(encoded.size()), old_size);
  return load(hash);
}

bool FileTier::remove(std::uint64_t hash) {
  const std::string path = path_of(hash);
  struct stat st {};
  const bool existed = ::stat(path.c_str(), &st) == 0 && ::unlink(path.c_str()) == 0;
  index_->bump(hash);
  if (existed) {
    index_->add_bytes(-static_cast<std::int64_t>(st.st_size));
  }
  return existed;
}

std::size_t FileTier::remove_prefix(std::string_view prefix) {
  std::size_t removed = 0;
  DIR* dir = ::opendir(directory_.c_str());
  if (dir == nullptr) {
    return 0;
  }
  std::vector<std::uint64_t> matching;
  while (const dirent* item = ::readdir(dir)) {
    std::uint64_t hash = 0;
    if (!parse_hash(item->d_name, hash)) {
      continue;
    }
    if (std::shared_ptr<StoredEntry> entry = load(hash);
        entry != nullptr && std::string_view(entry->head.key()).starts_with(prefix)) {
      matching.push_back(hash);
    }
  }
  ::closedir(dir);
  for (const std::uint64_t hash : matching) {
    removed += remove(hash) ? 1 : 0;
  }
  index_->bump_epoch();
  return removed;
}

void FileTier::account(std::uint64_t hash, std::int64_t size, std::int64_t old_size) {
  index_->bump(hash);
  index_->touch(hash);
  index_->count(Counter::stores);
  if (index_->add_bytes(size - old_size) > static_cast<std::int64_t>(max_bytes_)) {
    evict();
  }
}

void FileTier::evict() {
  if (!index_->begin_eviction()) {
    return;  // another process is sweeping
  }
  struct Item {
    std::uint64_t last_used;
    std::int64_t size;
    std::string name;
  };
  std::vector<Item> items;
  std::int64_t total = 0;
  const std::int64_t now = now_ms() / 1000;
  DIR* dir = ::opendir(directory_.c_str());
  if (dir != nullptr) {
    while (const dirent* entry = ::readdir(dir)) {
      struct stat st {};
      const std::string path = directory_ + "/" + entry->d_name;
      std::uint64_t hash = 0;
      if (std::strncmp(entry->d_name, ".tmp-", 5) == 0) {
        // A writer that died left this; one still writing is younger than an hour.
        if (::stat(path.c_str(), &st) == 0 && now - st.st_mtime > 3600) {
          ::unlink(path.c_str());
        }
        continue;
      }
      if (!parse_hash(entry->d_name, hash) || ::stat(path.c_str(), &st) != 0) {
        continue;
      }
      items.push_back(
          {index_->last_used(hash), static_cast<std::int64_t>(st.st_size), entry->d_name});
      total += static_cast<std::int64_t>(st.st_size);
    }
    ::closedir(dir);
  }
  // Least recently used first, down to 90% of the budget, so a sweep is not needed at once again.
  std::sort(items.begin(), items.end(),
            [](const Item& a, const Item& b) { return a.last_used < b.last_used; });
  const auto target = static_cast<std::int64_t>(max_bytes_ / 10 * 9);
  std::uint64_t evicted = 0;
  for (const Item& item : items) {
    if (total <= target) {
      break;
    }
    std::uint64_t hash = 0;
    parse_hash(item.name.c_str(), hash);
    if (::unlink((directory_ + "/" + item.name).c_str()) == 0) {
      total -= item.size;
      index_->bump(hash);
      ++evicted;
    }
  }
  index_->set_bytes(total);
  index_->count(Counter::evictions, evicted);
  index_->end_eviction();
}

}  // namespace collage::cache
