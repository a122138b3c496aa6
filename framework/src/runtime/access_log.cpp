// The access log's buffer and its writer thread (collage/log.h).

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "collage/log.h"
#include "log_io.h"

namespace collage {
namespace {

constexpr std::size_t kBlock = 64 * 1024;              // handed to the writer when this full
constexpr std::size_t kMostBehind = 16 * 1024 * 1024;  // appends wait beyond this

// Every access log of the process, for sync_access_logs().
std::mutex g_logs_mutex;
std::set<AccessLog*>& all_logs() {
  static std::set<AccessLog*> logs;
  return logs;
}

}  // namespace

AccessLog::AccessLog() {
  std::lock_guard lock(g_logs_mutex);
  all_logs().insert(this);
}

void sync_access_logs() {
  std::lock_guard lock(g_logs_mutex);
  for (AccessLog* log : all_logs()) {
    log->sync();
  }
}

void AccessLog::sync() {
  std::unique_lock lock(mutex_);
  if (writer_ != nullptr && writer_pid_ == ::getpid()) {
    if (!buffer_.empty()) {
      hand_off(lock);
    }
    drained_.wait(lock, [this] { return pending_.empty() && !writing_; });
    return;
  }
  // No writer runs in this process: write here.
  if (fd_ >= 0) {
    write_all(fd_, pending_);
    write_all(fd_, buffer_);
  }
  pending_.clear();
  buffer_.clear();
}

AccessLog::~AccessLog() {
  {
    std::lock_guard registry(g_logs_mutex);
    all_logs().erase(this);
  }
  std::unique_lock lock(mutex_);
  if (writer_ != nullptr && writer_pid_ == ::getpid()) {
    stop_ = true;
    work_.notify_one();
    lock.unlock();
    writer_->join();
    delete writer_;
    lock.lock();
  }
  // What the writer did not take (or all of it, where no writer ever ran) goes out now.
  if (fd_ >= 0) {
    write_all(fd_, pending_);
    write_all(fd_, buffer_);
    ::close(fd_);
  }
}

bool AccessLog::open(const std::string& path, std::string& error) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) {
    error = "cannot open access log " + path + ": " + std::strerror(errno);
    return false;
  }
  std::lock_guard lock(mutex_);
  if (fd_ >= 0) {
    ::close(fd_);
  }
  fd_ = fd;
  return true;
}

void AccessLog::append(std::string_view line) {
  std::unique_lock lock(mutex_);
  buffer_ += line;
  if (buffer_.size() >= kBlock) {
    hand_off(lock);
  }
}

void AccessLog::flush() {
  std::unique_lock lock(mutex_);
  if (!buffer_.empty()) {
    hand_off(lock);
  }
}

void AccessLog::hand_off(std::unique_lock<std::mutex>& lock) {
  if (fd_ < 0) {
    buffer_.clear();
    return;
  }
  if (writer_ == nullptr || writer_pid_ != ::getpid()) {
    // First block of this process (a forked child's copy of a parent's writer is not running).
    writer_pid_ = ::getpid();
    writer_ = new std::thread([this] { write_loop(); });
  }
  drained_.wait(lock, [this] { return pending_.size() < kMostBehind || stop_; });
  if (pending_.empty()) {
    pending_.swap(buffer_);
  } else {
    pending_ += buffer_;
    buffer_.clear();
  }
  work_.notify_one();
}

void AccessLog::write_loop() {
  std::string block;
  std::unique_lock lock(mutex_);
  for (;;) {
    work_.wait(lock, [this] { return !pending_.empty() || stop_; });
    if (pending_.empty()) {
      return;  // stopping, and all written
    }
    block.swap(pending_);
    writing_ = true;
    const int fd = fd_;
    lock.unlock();
    write_all(fd, block);
    block.clear();
    lock.lock();
    writing_ = false;
    drained_.notify_all();
  }
}

}  // namespace collage
