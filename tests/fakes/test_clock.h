// A clock tests move by hand, handed to code that takes a clock function.
//
//   TestClock clock(absl::FromUnixSeconds(1767225600));
//   Service service(clock.AsFunction());
//   clock.Advance(absl::Minutes(10));
#ifndef EDGEPASS_TESTS_FAKES_TEST_CLOCK_H_
#define EDGEPASS_TESTS_FAKES_TEST_CLOCK_H_

#include <functional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace edgepass::testing {

// Thread-safe.
class TestClock {
 public:
  explicit TestClock(absl::Time now) : now_(now) {}
  absl::Time Now() const {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }
  // As the services take it.
  std::function<absl::Time()> AsFunction() const {
    return [this] { return Now(); };
  }

 private:
  mutable absl::Mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_);
};

}  // namespace edgepass::testing

#endif  // EDGEPASS_TESTS_FAKES_TEST_CLOCK_H_
