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

}  // namespace
}  // namespace collage
