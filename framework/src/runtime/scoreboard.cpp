#include "collage/scoreboard.h"

#include "collage/log.h"

#include <sys/mman.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <new>

namespace collage {

char state_letter(WorkerState state) {
  static constexpr char kLetters[] = ".S_RWKCLG";
  return kLetters[static_cast<std::size_t>(state)];
}

std::string_view state_name(WorkerState state) {
  static constexpr std::string_view kNames[] = {"open",    "starting", "ready",
                                                "reading", "writing",  "keep-alive",
                                                "closing", "logging",  "finishing"};
  return kNames[static_cast<std::size_t>(state)];
}

std::int64_t wall_clock_ms() {
  // The coarse clock (a few ms of resolution) is plenty for a status page and costs no TSC read
  // on every state change.
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME_COARSE, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1000 + now.tv_nsec / 1'000'000;
}

namespace {
Scoreboard* g_running = nullptr;
}  // namespace

Scoreboard* running_scoreboard() {
  return g_running;
}
void set_running_scoreboard(Scoreboard* board) {
  g_running = board;
  set_running_metrics(board != nullptr ? board->metrics() : nullptr);
}

std::unique_ptr<Scoreboard> Scoreboard::create(std::uint32_t servers, std::uint32_t threads) {
  const std::size_t global_bytes = (sizeof(ScoreboardGlobal) + 63) / 64 * 64;
  const std::size_t children_bytes = (sizeof(ChildScore) * servers + 63) / 64 * 64;
  const std::size_t length =
      global_bytes + children_bytes + sizeof(WorkerScore) * servers * std::size_t{threads};
  void* memory = ::mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) {
    return nullptr;
  }
  std::unique_ptr<Scoreboard> board(new Scoreboard);
  board->memory_ = memory;
  board->length_ = length;
  board->servers_ = servers;
  board->threads_ = threads;
  auto* bytes = static_cast<std::byte*>(memory);
  board->global_ = new (bytes) ScoreboardGlobal;
  board->children_ = new (bytes + global_bytes) ChildScore[servers];
  board->workers_ = new (bytes + global_bytes + children_bytes) WorkerScore[servers * threads];
  board->metrics_ = Metrics::create(servers);
  return board;
}

Scoreboard::~Scoreboard() {
  if (memory_ != nullptr) {
    ::munmap(memory_, length_);
  }
}

std::atomic<std::uint64_t>* Scoreboard::shared_counter(std::string_view name) const {
  using Counter = ScoreboardGlobal::NamedCounter;
  if (name.empty() || name.size() >= sizeof(Counter::name)) {
    return nullptr;
  }
  for (Counter& c : global_->counters) {
    std::uint32_t state = c.state.load(std::memory_order_acquire);
    if (state == 0 && c.state.compare_exchange_strong(state, 1, std::memory_order_acq_rel)) {
      // Claimed a free slot; another process may claim the same name elsewhere meanwhile, so
      // look for it once more after naming this one.
      std::memcpy(c.name, name.data(), name.size());
      c.state.store(2, std::memory_order_release);
    }
    while (state == 1) {  // another process is naming this slot: a few instructions
      state = c.state.load(std::memory_order_acquire);
    }
    if (c.state.load(std::memory_order_acquire) == 2 && std::string_view(c.name) == name) {
      // The first slot with this name wins, in every process, because slots are scanned and
      // claimed in one order.
      return &c.value;
    }
  }
  return nullptr;
}

void Scoreboard::retire_child(std::uint32_t server) const {
  ChildScore& row = child(server);
  if (metrics_ != nullptr) {
    metrics_->retire_child(server);
  }
  // Handshakes the dead child had running will never end: they stop counting against the cap.
  global_->tls_handshakes.fetch_sub(row.tls_handshakes.exchange(0));
  global_->requests_of_exited += row.requests.load();
  global_->bytes_of_exited += row.bytes.load();
  global_->accepted_of_exited += row.accepted.load();
  global_->accept_failures_of_exited += row.accept_failures.load();
  global_->refused_of_exited += row.refused.load();
  global_->full_of_exited += row.full.load();
  row.pid = 0;
  row.status = ChildStatus::empty;
  row.connections = 0;
  row.busy = 0;
  row.keepalive = 0;
  row.accepted = 0;
  row.requests = 0;
  row.bytes = 0;
  row.accept_failures = 0;
  row.refused = 0;
  row.full = 0;
  row.keyed.lock.clear();
  if (row.keyed.used != 0) {  // a table never used stays untouched (its pages never mapped)
    std::fill(std::begin(row.keyed.entries), std::end(row.keyed.entries), KeyedEntry{});
    row.keyed.used = 0;
  }
  for (std::uint32_t t = 0; t < threads_; ++t) {
    worker(server, t).state = WorkerState::open;
  }
}

namespace {

// Work in progress: a request being served. A connection waiting for request bytes (new, idle or
// a slow sender) is not busy: under the event MPM it holds no thread.
bool is_busy(WorkerState state) {
  return state == WorkerState::writing || state == WorkerState::logging;
}

void copy_text(char* out, std::size_t size, std::string_view text) {
  const std::size_t n = std::min(size - 1, text.size());
  std::memcpy(out, text.data(), n);
  out[n] = '\0';
}

}  // namespace

namespace {

ChildScore& local_row() {
  static ChildScore row;
  return row;
}

std::uint64_t key_hash(std::string_view key) {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a; 0 marks a free entry
  for (unsigned char c : key) {
    h = (h ^ c) * 1099511628211ull;
  }
  return h == 0 ? 1 : h;
}

class KeyedLock {
 public:
  explicit KeyedLock(KeyedCounts& counts) : counts_(counts) {
    while (counts_.lock.test_and_set(std::memory_order_acquire)) {
    }
  }
  ~KeyedLock() { counts_.lock.clear(std::memory_order_release); }

 private:
  KeyedCounts& counts_;
};

std::uint32_t current_second() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
  return static_cast<std::uint32_t>(now.tv_sec);
}

// Nothing left to count: no connection open and no hit in this second or the one before.
bool idle_entry(const KeyedEntry& e, std::uint32_t second) {
  return e.count == 0 && (e.hits == 0 || second - e.window > 1);
}

// Removes the entry at hole, moving later entries of its probe run back so every key stays
// reachable from its home slot without tombstones.
void erase_at(KeyedCounts& counts, std::size_t hole) {
  constexpr std::size_t kMask = KeyedCounts::kSize - 1;
  std::size_t next = (hole + 1) & kMask;
  while (counts.entries[next].key != 0) {
    const std::size_t home = counts.entries[next].key & kMask;
    // Moves back when its home is not in (hole, next] on the ring.
    if (((next - home) & kMask) >= ((next - hole) & kMask)) {
      counts.entries[hole] = counts.entries[next];
      hole = next;
    }
    next = (next + 1) & kMask;
  }
  counts.entries[hole] = KeyedEntry{};
  --counts.used;
}

// The entry for key in one row (the caller holds its lock), made when insert says so; idle
// entries met on the way are cleared. Null when absent (or the table is full).
KeyedEntry* keyed_entry(KeyedCounts& counts, std::uint64_t key, bool insert, std::uint32_t second) {
  constexpr std::size_t kMask = KeyedCounts::kSize - 1;
  std::size_t i = key & kMask;
  for (std::size_t probes = 0; probes < KeyedCounts::kSize; ++probes) {
    KeyedEntry& e = counts.entries[i];
    if (e.key == key) {
      return &e;
    }
    if (e.key == 0) {
      // Kept at most three quarters full, so probe runs stay short.
      if (!insert || counts.used >= KeyedCounts::kSize / 4 * 3) {
        return nullptr;
      }
      ++counts.used;
      e = KeyedEntry{key, 0, second, 0};
      return &e;
    }
    if (idle_entry(e, second)) {
      erase_at(counts, i);
      continue;  // look at what moved into this slot
    }
    i = (i + 1) & kMask;
  }
  return nullptr;
}

// Adds delta to key's count in one row; false when a new key finds the table full.
bool add_keyed(KeyedCounts& counts, std::uint64_t key, int delta) {
  KeyedLock lock(counts);
  const std::uint32_t second = current_second();
  KeyedEntry* e = keyed_entry(counts, key, delta > 0, second);
  if (e == nullptr) {
    return false;
  }
  e->count += static_cast<std::uint32_t>(delta);
  return true;
}

// Calls each(entry) for key's entry in every live row (or the local one without a server).
template <typename Each>
void each_row_entry(ChildScore* row, std::uint64_t key, Each each) {
  const Scoreboard* board = running_scoreboard();
  const std::uint32_t second = current_second();
  auto visit = [&](ChildScore& r) {
    KeyedLock lock(r.keyed);
    if (const KeyedEntry* e = keyed_entry(r.keyed, key, false, second)) {
      each(*e, second);
    }
  };
  if (board == nullptr || row == nullptr) {
    visit(row != nullptr ? *row : local_row());
    return;
  }
  for (std::uint32_t i = 0; i < board->servers(); ++i) {
    if (board->child(i).status != ChildStatus::empty) {
      visit(board->child(i));
    }
  }
}

std::uint32_t total_keyed(ChildScore* row, std::uint64_t key) {
  std::uint32_t total = 0;
  each_row_entry(row, key, [&](const KeyedEntry& e, std::uint32_t) { total += e.count; });
  return total;
}

// Says once a minute per child that its table is full and keys go uncounted.
void note_full_table() {
  static std::atomic<std::int64_t> said_at{0};
  const std::int64_t now = wall_clock_ms();
  std::int64_t last = said_at.load(std::memory_order_relaxed);
  if (now - last >= 60'000 && said_at.compare_exchange_strong(last, now)) {
    COLLAGE_LOG(LogLevel::warn, "COL-CORE-0017",
                "per-address counts are full in this child ({} keys): new addresses are let in "
                "uncounted until some leave",
                KeyedCounts::kSize / 4 * 3);
  }
}

}  // namespace

bool begin_tls_handshake(std::uint32_t limit) {
  Scoreboard* board = running_scoreboard();
  ChildScore* row = current_child_score();
  if (board == nullptr || row == nullptr) {
    return true;
  }
  std::atomic<std::uint32_t>& running = board->global().tls_handshakes;
  // Counted first, checked after: two children racing for the last place cannot both get it.
  if (limit != 0 && running.fetch_add(1) >= limit) {
    running.fetch_sub(1);
    board->global().tls_handshakes_refused.fetch_add(1, std::memory_order_relaxed);
    row->refused.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  if (limit == 0) {
    running.fetch_add(1);
  }
  row->tls_handshakes.fetch_add(1);
  return true;
}

void end_tls_handshake() {
  Scoreboard* board = running_scoreboard();
  ChildScore* row = current_child_score();
  if (board != nullptr && row != nullptr) {
    row->tls_handshakes.fetch_sub(1);
    board->global().tls_handshakes.fetch_sub(1);
  }
}

CapResult acquire_connection(ChildScore* row, std::span<const ConnectionCap> caps) {
  ChildScore& own = row != nullptr ? *row : local_row();
  std::size_t added = 0;
  bool counted = true;
  for (; added < caps.size() && counted; ++added) {
    counted = add_keyed(own.keyed, key_hash(caps[added].key), 1);
  }
  if (!counted) {
    --added;  // the one that failed added nothing
    for (std::size_t i = 0; i < added; ++i) {
      add_keyed(own.keyed, key_hash(caps[i].key), -1);
    }
    note_full_table();
    return CapResult::uncounted;
  }
  // Counted first, checked after: racing children see each other's counts.
  bool within = true;
  for (const ConnectionCap& cap : caps) {
    within = within && total_keyed(row, key_hash(cap.key)) <= cap.limit;
  }
  if (!within) {
    for (const ConnectionCap& cap : caps) {
      add_keyed(own.keyed, key_hash(cap.key), -1);
    }
    return CapResult::refused;
  }
  return CapResult::admitted;
}

bool within_rate(ChildScore* row, std::string_view key, std::uint32_t per_second) {
  ChildScore& own = row != nullptr ? *row : local_row();
  const std::uint64_t hashed = key_hash(key);
  {
    KeyedLock lock(own.keyed);
    const std::uint32_t second = current_second();
    KeyedEntry* e = keyed_entry(own.keyed, hashed, true, second);
    if (e == nullptr) {
      note_full_table();
      return true;
    }
    if (e->window != second) {
      e->window = second;
      e->hits = 0;
    }
    ++e->hits;
  }
  // Counted first, checked after, as connections are.
  std::uint32_t total = 0;
  each_row_entry(row, hashed, [&](const KeyedEntry& e, std::uint32_t second) {
    total += e.window == second ? e.hits : 0;
  });
  return total <= per_second;
}

void release_connection(ChildScore* row, std::span<const ConnectionCap> caps) {
  ChildScore& own = row != nullptr ? *row : local_row();
  for (const ConnectionCap& cap : caps) {
    add_keyed(own.keyed, key_hash(cap.key), -1);
  }
}

ConnectionScore::~ConnectionScore() {
  set_state(WorkerState::ready);
  if (child_ != nullptr && counted_) {
    child_->connections.fetch_sub(1, std::memory_order_relaxed);
  }
}

void ConnectionScore::connected() {
  if (child_ != nullptr && !counted_) {
    counted_ = true;
    child_->connections.fetch_add(1, std::memory_order_relaxed);
  }
  if (worker_ != nullptr) {
    worker_->client[0] = '\0';
    worker_->request[0] = '\0';
  }
  set_state(WorkerState::reading);
}

void ConnectionScore::set_client(std::string_view client) {
  if (worker_ != nullptr) {
    copy_text(worker_->client, sizeof worker_->client, client);
  }
}

void ConnectionScore::set_state(WorkerState state) {
  if (state == state_) {
    return;
  }
  if (child_ != nullptr) {
    std::atomic<std::uint64_t>* row = busy_series_ >= 0 ? metrics_row() : nullptr;
    if (is_busy(state_) != is_busy(state)) {
      const std::uint64_t step = is_busy(state) ? 1 : ~std::uint64_t{0};  // +1 or -1
      child_->busy.fetch_add(static_cast<std::uint32_t>(step), std::memory_order_relaxed);
      if (row != nullptr) {
        row[busy_series_].fetch_add(step, std::memory_order_relaxed);
      }
    }
    if ((state_ == WorkerState::keepalive) != (state == WorkerState::keepalive)) {
      const std::uint64_t step = state == WorkerState::keepalive ? 1 : ~std::uint64_t{0};
      child_->keepalive.fetch_add(static_cast<std::uint32_t>(step), std::memory_order_relaxed);
      if (row != nullptr && keepalive_series_ >= 0) {
        row[keepalive_series_].fetch_add(step, std::memory_order_relaxed);
      }
    }
  }
  state_ = state;
  if (worker_ != nullptr) {
    worker_->state.store(state, std::memory_order_relaxed);
    worker_->changed_ms.store(wall_clock_ms(), std::memory_order_relaxed);
  }
}

void ConnectionScore::begin_request(std::string_view request_line) {
  set_state(WorkerState::writing);
  if (worker_ != nullptr) {
    copy_text(worker_->request, sizeof worker_->request, request_line);
  }
}

void ConnectionScore::finish_request(std::uint64_t bytes) {
  if (child_ != nullptr) {
    child_->requests.fetch_add(1, std::memory_order_relaxed);
    child_->bytes.fetch_add(bytes, std::memory_order_relaxed);
  }
  if (worker_ != nullptr) {
    worker_->requests.fetch_add(1, std::memory_order_relaxed);
    worker_->bytes.fetch_add(bytes, std::memory_order_relaxed);
  }
}

}  // namespace collage
