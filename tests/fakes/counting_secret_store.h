// Test double: a SecretStore that counts reads through the interface, and can
// hold reads until released (single-flight tests) or fail them (outages).
//
//   CountingSecretStore store(file_store);
//   store.BlockReads();  ...  ASSERT_TRUE(store.WaitForBlockedReads(1, absl::Seconds(5)));
//   store.ReleaseReads();  EXPECT_EQ(store.read_count(), 1);
#ifndef EDGEPASS_TESTS_FAKES_COUNTING_SECRET_STORE_H_
#define EDGEPASS_TESTS_FAKES_COUNTING_SECRET_STORE_H_

#include <cstdint>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/state/secret_store.h"

namespace edgepass::testing {

// Thread-safe.
class CountingSecretStore : public server::SecretStore {
 public:
  // `inner` must outlive this store.
  explicit CountingSecretStore(server::SecretStore& inner) : inner_(inner) {}

  absl::StatusOr<core::Keyring> ReadKeyring() override {
    absl::MutexLock lock(&mu_);
    ++reads_;
    ++blocked_;
    mu_.Await(absl::Condition(+[](bool* blocking) { return !*blocking; }, &blocking_));
    --blocked_;
    if (unavailable_) {
      ++read_errors_;
      return absl::UnavailableError("fake secrets store: unavailable");
    }
    absl::StatusOr<core::Keyring> keyring = inner_.ReadKeyring();
    if (!keyring.ok()) ++read_errors_;
    return keyring;
  }

  absl::Status WriteKeyring(const core::Keyring& keyring) override {
    return inner_.WriteKeyring(keyring);
  }

  int64_t read_count() const override {
    absl::MutexLock lock(&mu_);
    return reads_;
  }

  int64_t read_error_count() const override {
    absl::MutexLock lock(&mu_);
    return read_errors_;
  }

  // While set, reads fail with UNAVAILABLE (they still count).
  void SetUnavailable(bool unavailable) {
    absl::MutexLock lock(&mu_);
    unavailable_ = unavailable;
  }

  // Reads wait inside ReadKeyring() until ReleaseReads().
  void BlockReads() {
    absl::MutexLock lock(&mu_);
    blocking_ = true;
  }
  void ReleaseReads() {
    absl::MutexLock lock(&mu_);
    blocking_ = false;
  }
  // True once `n` reads are waiting (BlockReads()), false after `timeout`.
  bool WaitForBlockedReads(int n, absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    struct Arg {
      int* blocked;
      int n;
    } arg{&blocked_, n};
    return mu_.AwaitWithTimeout(
        absl::Condition(+[](Arg* a) { return *a->blocked >= a->n; }, &arg), timeout);
  }

 private:
  server::SecretStore& inner_;
  mutable absl::Mutex mu_;
  int64_t reads_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t read_errors_ ABSL_GUARDED_BY(mu_) = 0;
  int blocked_ ABSL_GUARDED_BY(mu_) = 0;
  bool blocking_ ABSL_GUARDED_BY(mu_) = false;
  bool unavailable_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace edgepass::testing

#endif  // EDGEPASS_TESTS_FAKES_COUNTING_SECRET_STORE_H_
