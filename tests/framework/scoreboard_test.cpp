// Named shared counters: one slot per name, the same slot in every process that shares the board.

#include "collage/scoreboard.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

namespace collage {
namespace {

TEST(SharedCounter, OneSlotPerNameAcrossProcesses) {
  auto board = Scoreboard::create(2, 2);
  ASSERT_TRUE(board);
  std::atomic<std::uint64_t>* writes = board->shared_counter("files.writes");
  ASSERT_NE(writes, nullptr);
  EXPECT_EQ(board->shared_counter("files.writes"), writes);
  std::atomic<std::uint64_t>* other = board->shared_counter("cache.purges");
  ASSERT_NE(other, nullptr);
  EXPECT_NE(other, writes);
  const pid_t child = ::fork();
  if (child == 0) {
    // The child finds the same slot by name, and a name of its own gets a new one.
    std::atomic<std::uint64_t>* mine = board->shared_counter("files.writes");
    std::atomic<std::uint64_t>* fresh = board->shared_counter("child.only");
    if (mine != nullptr) {
      mine->fetch_add(5);
    }
    if (fresh != nullptr) {
      fresh->fetch_add(1);
    }
    ::_exit(mine == writes && fresh != nullptr ? 0 : 1);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(writes->load(), 5u);
  EXPECT_EQ(board->shared_counter("child.only")->load(), 1u);
}

TEST(SharedCounter, BadNamesAndAFullTable) {
  auto board = Scoreboard::create(1, 1);
  ASSERT_TRUE(board);
  EXPECT_EQ(board->shared_counter(""), nullptr);
  EXPECT_EQ(board->shared_counter(std::string(28, 'x')), nullptr);  // no room for the NUL
  for (std::size_t i = 0; i < ScoreboardGlobal::kNamedCounters; ++i) {
    EXPECT_NE(board->shared_counter("n" + std::to_string(i)), nullptr) << i;
  }
  EXPECT_EQ(board->shared_counter("one.too.many"), nullptr);
  EXPECT_NE(board->shared_counter("n0"), nullptr);  // named ones are still found
}

// The per-child table behind MaxConnectionsPerAddress and FTP's caps: many keys in one row, caps
// across rows, places given back, and a full table that lets connections in uncounted.
TEST(KeyedCounts, CapsHoldAcrossRowsAndPlacesComeBack) {
  auto board = Scoreboard::create(2, 1);
  ASSERT_TRUE(board);
  set_running_scoreboard(board.get());
  board->child(0).status = ChildStatus::serving;
  board->child(1).status = ChildStatus::serving;
  ChildScore* a = &board->child(0);
  ChildScore* b = &board->child(1);
  const ConnectionCap two{"conn http1 192.0.2.7", 2};
  EXPECT_EQ(acquire_connection(a, std::span(&two, 1)), CapResult::admitted);
  EXPECT_EQ(acquire_connection(b, std::span(&two, 1)), CapResult::admitted);
  EXPECT_EQ(acquire_connection(a, std::span(&two, 1)), CapResult::refused);  // 2 across rows
  EXPECT_EQ(acquire_connection(b, std::span(&two, 1)), CapResult::refused);
  release_connection(b, std::span(&two, 1));
  EXPECT_EQ(acquire_connection(a, std::span(&two, 1)), CapResult::admitted);
  // Hundreds of other keys come and go around it without losing its count.
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 1000; ++i) {
      const std::string key =
          "conn http1 10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256);
      const ConnectionCap one{key, 1};
      ASSERT_EQ(acquire_connection(a, std::span(&one, 1)), CapResult::admitted) << key;
    }
    EXPECT_EQ(acquire_connection(a, std::span(&two, 1)), CapResult::refused);
    for (int i = 0; i < 1000; ++i) {
      const std::string key =
          "conn http1 10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256);
      const ConnectionCap one{key, 1};
      release_connection(a, std::span(&one, 1));
    }
  }
  release_connection(a, std::span(&two, 1));
  release_connection(a, std::span(&two, 1));
  EXPECT_EQ(acquire_connection(b, std::span(&two, 1)), CapResult::admitted);
  // Past three quarters of the table, new keys are let in uncounted (never refused for it).
  int uncounted = 0;
  for (std::size_t i = 0; i < KeyedCounts::kSize; ++i) {
    const std::string key = "many " + std::to_string(i);
    const ConnectionCap one{key, 1};
    uncounted += acquire_connection(a, std::span(&one, 1)) == CapResult::uncounted ? 1 : 0;
  }
  // (a few idle entries of the keys above may still hold slots until a probe clears them)
  EXPECT_GE(uncounted, static_cast<int>(KeyedCounts::kSize / 4));
  EXPECT_LT(uncounted, static_cast<int>(KeyedCounts::kSize / 2));
  // A retired row gives everything back.
  board->retire_child(0);
  EXPECT_EQ(board->child(0).keyed.used, 0u);
  set_running_scoreboard(nullptr);
}

TEST(KeyedCounts, RequestRateCountsOneSecondAcrossRows) {
  auto board = Scoreboard::create(2, 1);
  ASSERT_TRUE(board);
  set_running_scoreboard(board.get());
  board->child(0).status = ChildStatus::serving;
  board->child(1).status = ChildStatus::serving;
  int allowed = 0;
  for (int i = 0; i < 10; ++i) {
    allowed += within_rate(&board->child(i % 2), "rate 192.0.2.9", 4) ? 1 : 0;
  }
  // Ten calls within one second (or two, if the clock ticked between): at most 8 pass.
  EXPECT_GE(allowed, 4);
  EXPECT_LE(allowed, 8);
  EXPECT_TRUE(within_rate(&board->child(0), "rate 192.0.2.10", 4));  // another address
  set_running_scoreboard(nullptr);
}

}  // namespace
}  // namespace collage
