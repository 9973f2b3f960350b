#include "server/state/compact_id.h"

#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "gtest/gtest.h"

namespace edgepass::server {
namespace {

TEST(CompactId, HoldsShortIdsInlineAndLongOnesOnTheHeapInSixteenBytes) {
  static_assert(sizeof(CompactId) == 16);
  const std::string long_id(64, 'L');
  for (const std::string& id : {std::string(), std::string("pTq3ZkW8sN1x"), std::string(15, 'x'),
                                std::string(16, 'y'), long_id}) {
    CompactId a(id);
    EXPECT_EQ(a.view(), id);
    EXPECT_EQ(a.size(), id.size());
    CompactId copy = a;
    EXPECT_EQ(copy.view(), id);
    EXPECT_EQ(copy, a);
    CompactId moved = std::move(copy);
    EXPECT_EQ(moved.str(), id);
    CompactId assigned("other");
    assigned = moved;
    EXPECT_EQ(assigned.view(), id);
    assigned = CompactId(long_id);
    EXPECT_EQ(assigned.view(), long_id);
  }
  EXPECT_LT(CompactId("a"), CompactId("b"));
}

TEST(CompactId, MapsFindByStringViewWithoutACopy) {
  absl::flat_hash_map<CompactId, int, CompactIdHash, CompactIdEq> map;
  map.try_emplace(std::string("pTq3ZkW8sN1x"), 1);
  map.try_emplace(std::string(40, 'z'), 2);
  EXPECT_EQ(map.find(absl::string_view("pTq3ZkW8sN1x"))->second, 1);
  EXPECT_EQ(map.find(std::string(40, 'z'))->second, 2);
  EXPECT_FALSE(map.contains(absl::string_view("pTq3ZkW8sN1")));
  EXPECT_EQ(map.erase(absl::string_view("pTq3ZkW8sN1x")), 1u);
  EXPECT_EQ(map.size(), 1u);
}

}  // namespace
}  // namespace edgepass::server
