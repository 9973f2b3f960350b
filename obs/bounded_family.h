// A labelled prometheus-cpp family whose number of label sets is capped, so
// label values that come from requests or data (asset ids, routes, method
// names) cannot grow a scrape without bound: once `max_children` label sets
// exist, every new set is counted under kOverflowLabelValue in all its
// labels. Children are found by their label values through a LabelSetIndex
// (no lock, no allocation), instead of building a prometheus::Labels map.
// For families recorded on hot paths, prefer the striped families
// (striped_family.h): prometheus-cpp's children share one atomic per counter
// and take a mutex per histogram observation.
//
//   auto& family = prometheus::BuildCounter().Name("x_total").Help("...")
//                      .Register(*registry);
//   obs::BoundedFamily<prometheus::Counter> issued(
//       family, {"asset", "outcome"}, /*max_children=*/1000);
//   issued.Get({asset_id, "ok"}).Increment();
#ifndef EDGEPASS_OBS_BOUNDED_FAMILY_H_
#define EDGEPASS_OBS_BOUNDED_FAMILY_H_

#include <cstddef>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "obs/label_set_index.h"
#include "prometheus/family.h"
#include "prometheus/labels.h"

namespace edgepass::obs {

// Thread-safe. `family` (owned by a prometheus::Registry) must outlive it;
// the references Get() returns live as long as the family.
template <typename T>
class BoundedFamily {
 public:
  // `args` are what T's constructor takes besides the labels (a histogram's
  // bucket boundaries); they are copied.
  template <typename... Args>
  BoundedFamily(prometheus::Family<T>& family,
                std::vector<std::string> label_names, size_t max_children,
                Args... args)
      : index_(std::move(label_names), max_children,
               [&family, args...](const prometheus::Labels& labels) -> T& {
                 return family.Add(labels, args...);
               }) {}

  // The child for `values`, one per label name in order (missing values are
  // empty, extra ones ignored), created on first use.
  T& Get(absl::Span<const absl::string_view> values) {
    return index_.Get(values);
  }
  T& Get(std::initializer_list<absl::string_view> values) {
    return index_.Get(values);
  }

 private:
  LabelSetIndex<T> index_;
};

}  // namespace edgepass::obs

#endif  // EDGEPASS_OBS_BOUNDED_FAMILY_H_
