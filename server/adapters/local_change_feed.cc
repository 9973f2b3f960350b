#include "server/adapters/local_change_feed.h"

namespace edgepass::server {

LocalChangeFeed::LocalChangeFeed() : thread_([this] { Run(); }) {}

LocalChangeFeed::~LocalChangeFeed() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

void LocalChangeFeed::Publish(ChangeKind kind) {
  absl::MutexLock lock(&mu_);
  pending_[static_cast<size_t>(kind)] = true;
}

void LocalChangeFeed::Subscribe(Listener listener) {
  absl::MutexLock lock(&mu_);
  listeners_.push_back(std::move(listener));
}

void LocalChangeFeed::Run() {
  auto ready = +[](LocalChangeFeed* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mu_) {
    return self->stop_ || self->pending_[0] || self->pending_[1] || self->pending_[2];
  };
  while (true) {
    std::array<bool, 3> pending;
    std::vector<Listener> listeners;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(ready, this));
      if (stop_) return;
      pending = pending_;
      pending_ = {false, false, false};
      listeners = listeners_;
    }
    for (size_t i = 0; i < pending.size(); ++i) {
      if (!pending[i]) continue;
      for (const Listener& listener : listeners) listener(static_cast<ChangeKind>(i));
    }
  }
}

}  // namespace edgepass::server
