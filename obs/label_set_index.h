// The children of a labelled metric family, found by their label values on
// hot paths without a lock or a heap allocation, and capped: label values
// that come from requests or data (asset ids, routes, method names) cannot
// grow a scrape without bound, because once `max_children` label sets exist
// every new set is counted under kOverflowLabelValue in all its labels.
// BoundedFamily (prometheus-cpp children) and the striped families
// (striped_family.h) share it, so the cap behaves the same everywhere.
//
//   LabelSetIndex<Counter> index(
//       {"route", "code"}, /*max_children=*/400,
//       [&](const prometheus::Labels& labels) -> Counter& {
//         return family.Add(labels);
//       });
//   index.Get({route, code}).Increment();
#ifndef EDGEPASS_OBS_LABEL_SET_INDEX_H_
#define EDGEPASS_OBS_LABEL_SET_INDEX_H_

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "prometheus/labels.h"

namespace edgepass::obs {

// The value every label of a set over the cap is counted under. Parentheses
// cannot occur in asset ids, routes or gRPC method names, so it collides with
// no real value.
inline constexpr absl::string_view kOverflowLabelValue = "(other)";

// Thread-safe. A lookup of an existing label set (or of any set once the cap
// is reached) takes no lock and allocates nothing for keys up to
// kInlineKeyBytes; the first use of a set takes a mutex and calls `make`.
// Children are never removed: the references Get() returns, and the entries
// Entries() lists, live as long as the index (and whatever `make` returns
// them from).
template <typename Child>
class LabelSetIndex {
 public:
  // Creates the child for `labels` (one value per label name, the overflow
  // set included). Called under the index's lock, at most once per set.
  using Make = std::function<Child&(const prometheus::Labels& labels)>;

  // A label set and its child.
  struct Entry {
    prometheus::Labels labels;
    Child* child;
  };

  // Encoded keys up to this size live on the stack.
  static constexpr size_t kInlineKeyBytes = 256;

  LabelSetIndex(std::vector<std::string> label_names, size_t max_children,
                Make make)
      : label_names_(std::move(label_names)),
        max_children_(max_children),
        make_(std::move(make)) {
    absl::MutexLock lock(&mu_);
    tables_.push_back(std::make_unique<Table>(kInitialSlots));
    table_.store(tables_.back().get(), std::memory_order_release);
  }
  LabelSetIndex(const LabelSetIndex&) = delete;
  LabelSetIndex& operator=(const LabelSetIndex&) = delete;

  // The child for `values`, one per label name in order (missing values are
  // empty, extra ones ignored), created on first use.
  Child& Get(absl::Span<const absl::string_view> values) {
    const Key key(values, label_names_.size());
    const size_t hash = absl::Hash<absl::string_view>{}(key.view());
    // Loaded before the lookup: every set created before the cap was reached
    // is then visible to it, so a miss with the overflow child set means the
    // set is over the cap and needs no lock.
    Child* overflow = overflow_.load(std::memory_order_acquire);
    if (Child* child =
            Find(*table_.load(std::memory_order_acquire), key.view(), hash))
      return *child;
    if (overflow != nullptr) return *overflow;
    return Insert(values, key.view(), hash);
  }
  Child& Get(std::initializer_list<absl::string_view> values) {
    return Get(
        absl::Span<const absl::string_view>(values.begin(), values.size()));
  }

  // Every label set so far (the overflow set included once used), in the
  // order they were created.
  std::vector<const Entry*> Entries() const {
    absl::MutexLock lock(&mu_);
    std::vector<const Entry*> entries;
    entries.reserve(nodes_.size());
    for (const auto& node : nodes_) entries.push_back(&node->entry);
    return entries;
  }

  const std::vector<std::string>& label_names() const { return label_names_; }

 private:
  static constexpr size_t kInitialSlots = 16;

  // Label values as (varint length, bytes) pairs: unlike a separator, no
  // value can make two different lists encode alike.
  class Key {
   public:
    Key(absl::Span<const absl::string_view> values, size_t count) {
      size_t size = 0;
      for (size_t i = 0; i < count; ++i) {
        const size_t n = i < values.size() ? values[i].size() : 0;
        size += VarintSize(n) + n;
      }
      char* out = inline_;
      if (size > kInlineKeyBytes) {
        heap_.resize(size);
        out = heap_.data();
      }
      data_ = out;
      size_ = size;
      for (size_t i = 0; i < count; ++i) {
        const absl::string_view v =
            i < values.size() ? values[i] : absl::string_view();
        size_t n = v.size();
        while (n >= 0x80) {
          *out++ = static_cast<char>((n & 0x7f) | 0x80);
          n >>= 7;
        }
        *out++ = static_cast<char>(n);
        if (!v.empty()) out = std::copy(v.begin(), v.end(), out);
      }
    }
    Key(const Key&) = delete;
    Key& operator=(const Key&) = delete;
    absl::string_view view() const { return absl::string_view(data_, size_); }

   private:
    static size_t VarintSize(size_t n) {
      size_t bytes = 1;
      for (; n >= 0x80; n >>= 7) ++bytes;
      return bytes;
    }
    char inline_[kInlineKeyBytes];
    std::string heap_;
    const char* data_;
    size_t size_;
  };

  struct Node {
    std::string key;
    size_t hash;
    Entry entry;
  };

  // Open addressing, linear probing, at most half full. Readers probe it
  // without a lock; the writer (under mu_) fills empty slots in place or
  // publishes a twice larger copy. Replaced tables stay until destruction
  // because a reader may still be probing one; their sizes halve, so all of
  // them together are at most the size of the newest.
  struct Table {
    explicit Table(size_t slots)
        : mask(slots - 1),
          slot(std::make_unique<std::atomic<const Node*>[]>(slots)) {}
    const size_t mask;
    std::unique_ptr<std::atomic<const Node*>[]> slot;
  };

  static Child* Find(const Table& table, absl::string_view key, size_t hash) {
    for (size_t i = hash & table.mask;; i = (i + 1) & table.mask) {
      const Node* node = table.slot[i].load(std::memory_order_acquire);
      if (node == nullptr) return nullptr;
      if (node->hash == hash && node->key == key) return node->entry.child;
    }
  }

  static void Place(Table& table, const Node* node) {
    size_t i = node->hash & table.mask;
    while (table.slot[i].load(std::memory_order_relaxed) != nullptr)
      i = (i + 1) & table.mask;
    table.slot[i].store(node, std::memory_order_release);
  }

  Child& Insert(absl::Span<const absl::string_view> values,
                absl::string_view key, size_t hash) {
    absl::MutexLock lock(&mu_);
    if (Child* child = Find(*tables_.back(), key, hash)) return *child;
    if (Child* overflow = overflow_.load(std::memory_order_relaxed))
      return *overflow;
    if (real_children_ < max_children_) {
      prometheus::Labels labels;
      for (size_t i = 0; i < label_names_.size(); ++i) {
        labels[label_names_[i]] =
            i < values.size() ? std::string(values[i]) : std::string();
      }
      ++real_children_;
      return *Add(std::string(key), hash, std::move(labels));
    }
    // The first set over the cap: the overflow set may exist already as a
    // real one (its values were passed in), as prometheus-cpp would share it.
    std::vector<absl::string_view> other(label_names_.size(),
                                         kOverflowLabelValue);
    const Key other_key(other, other.size());
    const size_t other_hash = absl::Hash<absl::string_view>{}(other_key.view());
    Child* overflow = Find(*tables_.back(), other_key.view(), other_hash);
    if (overflow == nullptr) {
      prometheus::Labels labels;
      for (const std::string& name : label_names_)
        labels[name] = std::string(kOverflowLabelValue);
      overflow =
          Add(std::string(other_key.view()), other_hash, std::move(labels));
    }
    overflow_.store(overflow, std::memory_order_release);
    return *overflow;
  }

  Child* Add(std::string key, size_t hash, prometheus::Labels labels)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Child& child = make_(labels);
    nodes_.push_back(std::make_unique<Node>(
        Node{std::move(key), hash, {std::move(labels), &child}}));
    Table* table = tables_.back().get();
    if (nodes_.size() * 2 > table->mask + 1) {
      tables_.push_back(std::make_unique<Table>((table->mask + 1) * 2));
      table = tables_.back().get();
      for (const auto& node : nodes_) Place(*table, node.get());
      table_.store(table, std::memory_order_release);
    } else {
      Place(*table, nodes_.back().get());
    }
    return &child;
  }

  const std::vector<std::string> label_names_;
  const size_t max_children_;
  const Make make_;
  std::atomic<const Table*> table_{nullptr};  // tables_.back(), for readers
  std::atomic<Child*> overflow_{nullptr};     // set once the cap is reached
  mutable absl::Mutex mu_;
  std::vector<std::unique_ptr<Table>> tables_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Node>> nodes_ ABSL_GUARDED_BY(mu_);
  size_t real_children_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace edgepass::obs

#endif  // EDGEPASS_OBS_LABEL_SET_INDEX_H_
