// Tells the fleet which validators stream from this replica and which keyring
// each acknowledged (the ValidatorDirectory a key rotation waits on): every
// interval, the hub's connected validators are published, stamped with the
// time they were last seen connected; and at once after an acknowledgement.
// Validators that disconnected from this replica are forgotten at once.
//
//   ValidatorReporter reporter(&hub, &directory, "replica-a", absl::Now, absl::Seconds(1));
//   reporter.Start();
#ifndef EDGEPASS_SERVER_APP_VALIDATOR_REPORTER_H_
#define EDGEPASS_SERVER_APP_VALIDATOR_REPORTER_H_

#include <functional>
#include <set>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "server/app/edge_sync_hub.h"
#include "server/state/rotation_coordination.h"

namespace edgepass::server {

// Thread-safe; `hub` and `directory` outlive it.
class ValidatorReporter {
 public:
  ValidatorReporter(const EdgeSyncHub* hub, ValidatorDirectory* directory, std::string replica,
                    std::function<absl::Time()> clock, absl::Duration interval)
      : hub_(hub), directory_(directory), replica_(std::move(replica)), clock_(std::move(clock)),
        interval_(interval) {}
  ~ValidatorReporter() { Stop(); }

  // Publishes once now (the directory's error, if any).
  absl::Status ReportOnce();
  // Publishes every interval, and soon after each Poke().
  void Start();
  void Stop();
  // Something changed (a validator acknowledged): report without waiting
  // for the interval. Cheap; callable from any thread.
  void Poke();

 private:
  const EdgeSyncHub* const hub_;
  ValidatorDirectory* const directory_;
  const std::string replica_;
  const std::function<absl::Time()> clock_;
  const absl::Duration interval_;
  absl::Mutex mu_;
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  bool poked_ ABSL_GUARDED_BY(mu_) = false;
  // Validators the last report named (ReportOnce runs on one thread at a time).
  absl::Mutex report_mu_;
  std::set<std::string> reported_ ABSL_GUARDED_BY(report_mu_);
  std::thread thread_;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_APP_VALIDATOR_REPORTER_H_
