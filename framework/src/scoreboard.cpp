#include "collage/scoreboard.h"

#include <sys/mman.h>

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
  static constexpr std::string_view kNames[] = {"open",      "starting", "ready",
                                                "reading",   "writing",  "keep-alive",
                                                "closing",   "logging",  "finishing"};
  return kNames[static_cast<std::size_t>(state)];
}

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

namespace {
Scoreboard* g_running = nullptr;
}  // namespace

Scoreboard* running_scoreboard() { return g_running; }
void set_running_scoreboard(Scoreboard* board) { g_running = board; }

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
  return board;
}

Scoreboard::~Scoreboard() {
  if (memory_ != nullptr) {
    ::munmap(memory_, length_);
  }
}

void Scoreboard::retire_child(std::uint32_t server) const {
  ChildScore& row = child(server);
  global_->requests_of_exited += row.requests.load();
  global_->bytes_of_exited += row.bytes.load();
  global_->accepted_of_exited += row.accepted.load();
  row.pid = 0;
  row.status = ChildStatus::empty;
  row.connections = 0;
  row.busy = 0;
  row.keepalive = 0;
  row.accepted = 0;
  row.requests = 0;
  row.bytes = 0;
  for (std::uint32_t t = 0; t < threads_; ++t) {
    worker(server, t).state = WorkerState::open;
  }
}

namespace {

bool is_busy(WorkerState state) {
  return state == WorkerState::reading || state == WorkerState::writing ||
         state == WorkerState::logging;
}

void copy_text(char* out, std::size_t size, std::string_view text) {
  const std::size_t n = std::min(size - 1, text.size());
  std::memcpy(out, text.data(), n);
  out[n] = '\0';
}

}  // namespace

ConnectionScore::~ConnectionScore() {
  set_state(WorkerState::ready);
  if (child_ != nullptr && counted_) {
    child_->connections.fetch_sub(1, std::memory_order_relaxed);
  }
}

void ConnectionScore::connected(std::string_view client) {
  if (child_ != nullptr && !counted_) {
    counted_ = true;
    child_->connections.fetch_add(1, std::memory_order_relaxed);
  }
  if (worker_ != nullptr) {
    copy_text(worker_->client, sizeof worker_->client, client);
    worker_->request[0] = '\0';
  }
  set_state(WorkerState::reading);
}

void ConnectionScore::set_state(WorkerState state) {
  if (state == state_) {
    return;
  }
  if (child_ != nullptr) {
    if (is_busy(state_) != is_busy(state)) {
      if (is_busy(state)) {
        child_->busy.fetch_add(1, std::memory_order_relaxed);
      } else {
        child_->busy.fetch_sub(1, std::memory_order_relaxed);
      }
    }
    if (state_ == WorkerState::keepalive) {
      child_->keepalive.fetch_sub(1, std::memory_order_relaxed);
    } else if (state == WorkerState::keepalive) {
      child_->keepalive.fetch_add(1, std::memory_order_relaxed);
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
