#include "core/random.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace edgepass::core {
namespace {

std::string Bytes(SecureRandom& random, size_t n) {
  std::string out(n, '\0');
  random.Fill(absl::MakeSpan(reinterpret_cast<uint8_t*>(out.data()), n));
  return out;
}

TEST(SecureRandom, SmallAndLargeFillsNeverRepeat) {
  SecureRandom random;
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) EXPECT_TRUE(seen.insert(Bytes(random, 12)).second);  // crosses blocks
  EXPECT_TRUE(seen.insert(Bytes(random, 1000)).second);  // unbuffered
  EXPECT_EQ(Bytes(random, 0), "");
}

TEST(SecureRandom, AForkedChildDoesNotReplayTheParentsBlock) {
  SecureRandom random;
  (void)Bytes(random, 8);  // the parent now holds a buffered block
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const std::string mine = Bytes(random, 16);
    (void)!write(fds[1], mine.data(), mine.size());
    _exit(0);
  }
  close(fds[1]);
  std::string childs(16, '\0');
  ASSERT_EQ(read(fds[0], childs.data(), childs.size()), 16);
  close(fds[0]);
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_NE(Bytes(random, 16), childs);
}

}  // namespace
}  // namespace edgepass::core
