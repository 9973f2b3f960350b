// The threads on which both transports run the calls that may wait (on a
// store, on other replicas), so that gRPC's callback threads and the REST
// event loops never block. One pool per replica, shared by gRPC and REST:
// at most `threads` calls wait at once, whichever transport they came by;
// the rest queue here rather than time out on the Redis connection pool.
//
//   BlockingPool pool(8);
//   pool.Run([reactor, call] { reactor->Finish(ToGrpcStatus(call())); });
#ifndef EDGEPASS_SERVER_API_BLOCKING_POOL_H_
#define EDGEPASS_SERVER_API_BLOCKING_POOL_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace edgepass::server {

// Threads a replica's pool has at least; more when --redis-pool-size is
// larger, so that each call that waits on Redis has a connection to wait on.
inline constexpr int kDefaultBlockingThreads = 8;
// Calls of one transport queued on the pool or running there, at most
// (--max-waiting-calls); one more is refused at once.
inline constexpr int kDefaultMaxWaitingCalls = 1024;

// Thread-safe. Run() never blocks; the destructor runs what was queued, then
// joins.
class BlockingPool {
 public:
  explicit BlockingPool(int threads);
  ~BlockingPool();
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  void Run(std::function<void()> task);
  int threads() const { return static_cast<int>(threads_.size()); }

 private:
  void Work();

  absl::Mutex mu_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_API_BLOCKING_POOL_H_
