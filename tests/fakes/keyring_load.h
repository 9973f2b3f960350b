// The load of the bounded-reads tests: four issuing threads call Current()
// on two replicas' keyring sources without pause while simulated time moves
// on in steps; after every step both replicas must answer.
//
//   KeyringLoad load = RunIssuers(replica1, replica2, [&](absl::Duration d) { clock.Advance(d); },
//                                 absl::Seconds(60), absl::Milliseconds(100));
//   EXPECT_LE(store.read_count(), 7);  EXPECT_EQ(load.failures, 0);
#ifndef EDGEPASS_TESTS_FAKES_KEYRING_LOAD_H_
#define EDGEPASS_TESTS_FAKES_KEYRING_LOAD_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "server/state/keyring_source.h"

namespace edgepass::testing {

struct KeyringLoad {
  int64_t calls = 0;     // Current() calls by the issuing threads
  int64_t failures = 0;  // of those, the ones that returned an error
};

// A replica that does not answer after a step is a test failure (and ends
// the run early).
inline KeyringLoad RunIssuers(server::KeyringSource& replica1, server::KeyringSource& replica2,
                              const std::function<void(absl::Duration)>& advance, absl::Duration run,
                              absl::Duration step) {
  std::atomic<bool> stop{false};
  std::atomic<int64_t> calls{0};
  std::atomic<int64_t> failures{0};
  std::vector<std::thread> issuers;
  for (server::KeyringSource* replica : {&replica1, &replica2, &replica1, &replica2}) {
    issuers.emplace_back([&, replica] {
      while (!stop.load()) {
        if (!replica->Current().ok()) failures++;
        calls++;
      }
    });
  }
  for (absl::Duration t; t < run; t += step) {
    advance(step);
    if (!replica1.Current().ok() || !replica2.Current().ok()) {
      ADD_FAILURE() << "a replica has no keyring after " << t + step << " of simulated time";
      break;
    }
  }
  stop = true;
  for (std::thread& t : issuers) t.join();
  return {calls.load(), failures.load()};
}

}  // namespace edgepass::testing

#endif  // EDGEPASS_TESTS_FAKES_KEYRING_LOAD_H_
