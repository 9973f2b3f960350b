// Allocation counting for the allocation tests: a test binary that links
// counting_new_test_util.cc has its global operator new replaced by one that
// counts the allocations made on each thread.
//
//   const size_t before = testing::ThreadAllocations();
//   Validate(request, keys, revoked, now);
//   EXPECT_EQ(testing::ThreadAllocations() - before, 0u);
#ifndef EDGEPASS_CORE_COUNTING_NEW_TEST_UTIL_H_
#define EDGEPASS_CORE_COUNTING_NEW_TEST_UTIL_H_

#include <cstddef>

namespace edgepass::core::testing {

// operator new calls made on the calling thread since it started.
size_t ThreadAllocations();

}  // namespace edgepass::core::testing

#endif  // EDGEPASS_CORE_COUNTING_NEW_TEST_UTIL_H_
