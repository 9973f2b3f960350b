// A prometheus::Collectable whose families are computed when they are
// scraped, from values the program keeps anyway (atomic counters, sizes,
// clocks), so nothing is counted twice and no gauge goes stale between
// updates.
//
//   auto state = std::make_shared<obs::CallbackCollector>();
//   state->AddGauge("edgepass_revocation_list_entries", "Revoked sessions.",
//                   [&live] { return double(live.edge()->revoked.size()); });
//   auto endpoint = obs::MetricsEndpoint::Start(addr, {registry, state});
#ifndef EDGEPASS_OBS_CALLBACK_COLLECTOR_H_
#define EDGEPASS_OBS_CALLBACK_COLLECTOR_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "prometheus/collectable.h"
#include "prometheus/labels.h"
#include "prometheus/metric_family.h"
#include "prometheus/metric_type.h"

namespace edgepass::obs {

// One sample of a family read at scrape time.
struct Sample {
  prometheus::Labels
      labels;  // label name -> value; empty for an unlabelled family
  double value = 0;
};

// Thread-safe. The read functions run on the scraping thread, concurrently
// with the rest of the program: they must be thread-safe, quick (no I/O) and
// must not throw. Whatever they capture must outlive every scrape, i.e. the
// MetricsEndpoint serving this collector.
class CallbackCollector : public prometheus::Collectable {
 public:
  using Read = std::function<std::vector<Sample>()>;

  // Adds a family of `type` (kCounter or kGauge) named `name` (a valid
  // Prometheus metric name; counters end in "_total"). A read that returns
  // no sample leaves the family out of the scrape.
  void AddFamily(std::string name, std::string help,
                 prometheus::MetricType type, Read read);

  // An unlabelled gauge / counter.
  void AddGauge(std::string name, std::string help,
                std::function<double()> read);
  void AddCounter(std::string name, std::string help,
                  std::function<double()> read);

  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  struct Entry {
    std::string name;
    std::string help;
    prometheus::MetricType type;
    Read read;
  };
  mutable absl::Mutex mu_;
  std::vector<Entry> entries_ ABSL_GUARDED_BY(mu_);
};

}  // namespace edgepass::obs

#endif  // EDGEPASS_OBS_CALLBACK_COLLECTOR_H_
