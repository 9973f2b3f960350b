// A labelled prometheus-cpp family whose number of label sets is capped, so
// label values that come from requests or data (asset ids, routes, method
// names) cannot grow a scrape without bound: once `max_children` label sets
// exist, every new set is counted under kOverflowLabelValue in all its
// labels. Children are cached by their label values, so a repeat costs one
// hash lookup under a reader lock instead of building a prometheus::Labels map.
//
//   auto& family = prometheus::BuildCounter().Name("x_total").Help("...")
//                      .Register(*registry);
//   obs::BoundedFamily<prometheus::Counter> issued(
//       family, {"asset", "outcome"}, /*max_children=*/1000);
//   issued.Get({asset_id, "ok"}).Increment();
#ifndef EDGEPASS_OBS_BOUNDED_FAMILY_H_
#define EDGEPASS_OBS_BOUNDED_FAMILY_H_

#include <cstddef>
#include <functional>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "prometheus/family.h"
#include "prometheus/labels.h"

namespace edgepass::obs {

// The value every label of a set over the cap is counted under. Parentheses
// cannot occur in asset ids, routes or gRPC method names, so it collides with
// no real value.
inline constexpr absl::string_view kOverflowLabelValue = "(other)";

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
      : label_names_(std::move(label_names)),
        max_children_(max_children),
        add_([&family, args...](const prometheus::Labels& labels) -> T& {
          return family.Add(labels, args...);
        }) {}

  // The child for `values`, one per label name in order (missing values are
  // empty, extra ones ignored), created on first use.
  T& Get(absl::Span<const absl::string_view> values) {
    const std::string key = absl::StrJoin(values, "\x1f");
    {
      absl::ReaderMutexLock lock(&mu_);
      if (auto it = children_.find(key); it != children_.end())
        return *it->second;
    }
    absl::MutexLock lock(&mu_);
    if (auto it = children_.find(key); it != children_.end())
      return *it->second;
    prometheus::Labels labels;
    if (children_.size() >= max_children_) {
      if (overflow_ == nullptr) {
        for (const std::string& name : label_names_)
          labels[name] = std::string(kOverflowLabelValue);
        overflow_ = &add_(labels);
      }
      return *overflow_;
    }
    for (size_t i = 0; i < label_names_.size(); ++i) {
      labels[label_names_[i]] =
          i < values.size() ? std::string(values[i]) : std::string();
    }
    T& child = add_(labels);
    children_.emplace(key, &child);
    return child;
  }
  T& Get(std::initializer_list<absl::string_view> values) {
    return Get(
        absl::Span<const absl::string_view>(values.begin(), values.size()));
  }

 private:
  const std::vector<std::string> label_names_;
  const size_t max_children_;
  const std::function<T&(const prometheus::Labels&)> add_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, T*> children_ ABSL_GUARDED_BY(mu_);
  T* overflow_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace edgepass::obs

#endif  // EDGEPASS_OBS_BOUNDED_FAMILY_H_
