// ChangeFeed of the embedded default (one process): Publish() wakes a
// dispatcher thread that calls the listeners.
//
//   LocalChangeFeed feed;
//   feed.Subscribe([&](ChangeKind kind) { if (kind == ChangeKind::kSessions) Reload(); });
//   feed.Publish(ChangeKind::kSessions);
#ifndef EDGEPASS_SERVER_ADAPTERS_LOCAL_CHANGE_FEED_H_
#define EDGEPASS_SERVER_ADAPTERS_LOCAL_CHANGE_FEED_H_

#include <array>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "server/state/change_feed.h"

namespace edgepass::server {

// Thread-safe. Listeners run on the dispatcher thread, one at a time, never
// on the publisher's thread (a publisher holding a lock cannot deadlock with
// a listener). Notifications of one kind not yet delivered are coalesced.
// The destructor delivers nothing more and joins the thread.
class LocalChangeFeed : public ChangeFeed {
 public:
  LocalChangeFeed();
  ~LocalChangeFeed() override;
  LocalChangeFeed(const LocalChangeFeed&) = delete;
  LocalChangeFeed& operator=(const LocalChangeFeed&) = delete;

  void Publish(ChangeKind kind) override;
  void Subscribe(Listener listener) override;

 private:
  void Run();

  absl::Mutex mu_;
  std::array<bool, 3> pending_ ABSL_GUARDED_BY(mu_) = {false, false, false};
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<Listener> listeners_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_ADAPTERS_LOCAL_CHANGE_FEED_H_
