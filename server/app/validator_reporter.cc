#include "server/app/validator_reporter.h"

#include <vector>

#include "core/status_macros.h"

namespace edgepass::server {

absl::Status ValidatorReporter::ReportOnce() {
  absl::MutexLock lock(&report_mu_);
  const absl::Time now = clock_();
  std::vector<ValidatorAck> connected;
  std::set<std::string> ids;
  for (const ValidatorInfo& v : hub_->ListValidators()) {
    if (!v.connected) continue;
    ids.insert(v.validator_id);
    connected.push_back({.validator_id = v.validator_id,
                         .replica = replica_,
                         .keyring_fingerprint = v.acked_fingerprint,
                         .acked_version = v.acked_version,
                         .seen_at = now});
  }
  std::vector<std::string> gone;
  for (const std::string& id : reported_) {
    if (ids.count(id) == 0) gone.push_back(id);
  }
  EDGEPASS_RETURN_IF_ERROR(directory_->Forget(replica_, gone));
  EDGEPASS_RETURN_IF_ERROR(directory_->Publish(replica_, connected));
  reported_ = std::move(ids);
  return absl::OkStatus();
}

void ValidatorReporter::Start() {
  thread_ = std::thread([this] {
    while (true) {
      (void)ReportOnce();  // a failed report is retried at the next interval
      absl::MutexLock lock(&mu_);
      auto stop_or_poked = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stop_ || poked_; };
      mu_.AwaitWithTimeout(absl::Condition(&stop_or_poked), interval_);
      if (stop_) return;
      poked_ = false;
    }
  });
}

void ValidatorReporter::Poke() {
  absl::MutexLock lock(&mu_);
  poked_ = true;
}

void ValidatorReporter::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

}  // namespace edgepass::server
