#include "shared_index.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

namespace collage::cache {

namespace {
constexpr char kMagic[8] = {'C', 'L', 'G', 'I', 'D', 'X', '0', '2'};
constexpr std::uint32_t kSlots = 1U << 16;
}  // namespace

struct SharedIndex::Header {
  char magic[8];
  std::uint32_t slots;
  std::uint32_t unused;
  std::atomic<std::int64_t> evicting_until_ms;  // a sweep under way; runs out if its process dies
  std::atomic<std::int64_t> bytes;
  std::atomic<std::uint64_t> epoch;
  std::atomic<std::int64_t> base_time;  // last_used counts seconds from here
  std::atomic<std::uint64_t> counters[static_cast<int>(Counter::count)];
};

struct SharedIndex::Slot {
  std::atomic<std::uint64_t> version;
  std::atomic<std::uint64_t> last_used_ms;  // since base_time
  std::atomic<std::int64_t> fill_until_ms;  // a claim runs out then; 0: none
  std::atomic<std::int64_t> padding;
};

static_assert(std::atomic<std::int64_t>::is_always_lock_free, "shared atomics need lock freedom");

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::unique_ptr<SharedIndex> SharedIndex::open(const std::string& path, std::string& error) {
  const std::size_t length = sizeof(Header) + kSlots * sizeof(Slot);
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    error = path + ": " + std::strerror(errno);
    return nullptr;
  }
  // One process initializes; the others wait on the lock and find it done.
  ::flock(fd, LOCK_EX);
  struct stat st {};
  bool fresh = ::fstat(fd, &st) == 0 && static_cast<std::size_t>(st.st_size) != length;
  if (fresh && ::ftruncate(fd, 0) != 0) {
    fresh = false;
  }
  if (fresh && ::ftruncate(fd, static_cast<off_t>(length)) != 0) {
    error = path + ": " + std::strerror(errno);
    ::close(fd);
    return nullptr;
  }
  void* memory = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (memory == MAP_FAILED) {
    error = path + ": " + std::strerror(errno);
    ::close(fd);
    return nullptr;
  }
  auto* header = static_cast<Header*>(memory);
  if (std::memcmp(header->magic, kMagic, sizeof kMagic) != 0 || header->slots != kSlots) {
    std::memset(memory, 0, length);
    header->slots = kSlots;
    header->base_time.store(now_ms() / 1000);
    std::memcpy(header->magic, kMagic, sizeof kMagic);
  }
  ::flock(fd, LOCK_UN);
  ::close(fd);
  return std::unique_ptr<SharedIndex>(new SharedIndex(memory, length));
}

SharedIndex::SharedIndex(void* memory, std::size_t length)
    : memory_(memory),
      length_(length),
      header_(static_cast<Header*>(memory)),
      slots_(reinterpret_cast<Slot*>(static_cast<char*>(memory) + sizeof(Header))) {}

SharedIndex::~SharedIndex() {
  ::munmap(memory_, length_);
}

SharedIndex::Slot& SharedIndex::slot(std::uint64_t hash) const {
  return slots_[hash % kSlots];
}

std::uint64_t SharedIndex::version(std::uint64_t hash) const {
  return slot(hash).version.load(std::memory_order_acquire);
}

void SharedIndex::bump(std::uint64_t hash) {
  slot(hash).version.fetch_add(1, std::memory_order_acq_rel);
}

std::uint64_t SharedIndex::epoch() const {
  return header_->epoch.load(std::memory_order_acquire);
}

void SharedIndex::bump_epoch() {
  header_->epoch.fetch_add(1, std::memory_order_acq_rel);
}

void SharedIndex::touch(std::uint64_t hash) {
  const auto now = static_cast<std::uint64_t>(now_ms() - header_->base_time.load() * 1000);
  Slot& s = slot(hash);
  // One store per 10 ms at most: hits on one hot entry do not fight over its cache line.
  if (now - s.last_used_ms.load(std::memory_order_relaxed) >= 10) {
    s.last_used_ms.store(now, std::memory_order_relaxed);
  }
}

std::uint64_t SharedIndex::last_used(std::uint64_t hash) const {
  return slot(hash).last_used_ms.load(std::memory_order_relaxed);
}

bool SharedIndex::claim_fill(std::uint64_t hash, std::int64_t hold_ms, std::int64_t& token) {
  Slot& s = slot(hash);
  const std::int64_t now = now_ms();
  std::int64_t current = s.fill_until_ms.load(std::memory_order_acquire);
  while (current <= now) {
    token = now + hold_ms;
    if (s.fill_until_ms.compare_exchange_weak(current, token, std::memory_order_acq_rel)) {
      return true;
    }
  }
  return false;
}

void SharedIndex::release_fill(std::uint64_t hash, std::int64_t token) {
  std::int64_t expected = token;
  slot(hash).fill_until_ms.compare_exchange_strong(expected, 0, std::memory_order_acq_rel);
}

bool SharedIndex::fill_pending(std::uint64_t hash) const {
  return slot(hash).fill_until_ms.load(std::memory_order_acquire) > now_ms();
}

std::int64_t SharedIndex::add_bytes(std::int64_t delta) {
  return header_->bytes.fetch_add(delta, std::memory_order_acq_rel) + delta;
}

void SharedIndex::set_bytes(std::int64_t total) {
  header_->bytes.store(total, std::memory_order_release);
}

std::int64_t SharedIndex::bytes() const {
  return header_->bytes.load(std::memory_order_acquire);
}

bool SharedIndex::begin_eviction() {
  const std::int64_t now = now_ms();
  std::int64_t current = header_->evicting_until_ms.load();
  return current <= now &&
         header_->evicting_until_ms.compare_exchange_strong(current, now + 60'000);
}

void SharedIndex::end_eviction() {
  header_->evicting_until_ms.store(0);
}

void SharedIndex::count(Counter counter, std::uint64_t n) {
  header_->counters[static_cast<int>(counter)].fetch_add(n, std::memory_order_relaxed);
}

std::uint64_t SharedIndex::counter(Counter counter) const {
  return header_->counters[static_cast<int>(counter)].load(std::memory_order_relaxed);
}

}  // namespace collage::cache
