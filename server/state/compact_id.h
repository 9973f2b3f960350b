// A session id held in 16 bytes, for the structures that keep one entry per
// revoked session (a million of them): up to 15 bytes inline (generated ids
// have 12), longer ones on the heap. Half a std::string's footprint and no
// allocation for the usual ids. Hash and compare it through CompactIdHash and
// CompactIdEq, which also take an absl::string_view, so a lookup by id copies
// nothing.
//
//   absl::flat_hash_map<CompactId, int64_t, CompactIdHash, CompactIdEq> expiry;
//   expiry[CompactId("pTq3ZkW8sN1x")] = 1767225600;
//   auto it = expiry.find(absl::string_view("pTq3ZkW8sN1x"));
#ifndef EDGEPASS_SERVER_STATE_COMPACT_ID_H_
#define EDGEPASS_SERVER_STATE_COMPACT_ID_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"

namespace edgepass::server {

class CompactId {
 public:
  static constexpr size_t kInlineBytes = 15;

  CompactId() { bytes_[kTag] = 0; }
  explicit CompactId(absl::string_view id) { Assign(id); }
  CompactId(const CompactId& other) { Assign(other.view()); }
  CompactId(CompactId&& other) noexcept {
    std::memcpy(bytes_, other.bytes_, sizeof(bytes_));
    other.bytes_[kTag] = 0;
  }
  CompactId& operator=(const CompactId& other) {
    if (this != &other) {
      Release();
      Assign(other.view());
    }
    return *this;
  }
  CompactId& operator=(CompactId&& other) noexcept {
    if (this != &other) {
      Release();
      std::memcpy(bytes_, other.bytes_, sizeof(bytes_));
      other.bytes_[kTag] = 0;
    }
    return *this;
  }
  ~CompactId() { Release(); }

  absl::string_view view() const {
    if (!on_heap()) return absl::string_view(bytes_, static_cast<unsigned char>(bytes_[kTag]));
    const char* data;
    uint32_t size;
    std::memcpy(&data, bytes_, sizeof(data));
    std::memcpy(&size, bytes_ + sizeof(data), sizeof(size));
    return absl::string_view(data, size);
  }
  std::string str() const { return std::string(view()); }
  size_t size() const { return view().size(); }

  friend bool operator==(const CompactId& a, const CompactId& b) { return a.view() == b.view(); }
  friend bool operator<(const CompactId& a, const CompactId& b) { return a.view() < b.view(); }
  template <typename H>
  friend H AbslHashValue(H h, const CompactId& id) {
    return H::combine(std::move(h), id.view());
  }

 private:
  // bytes_[kTag]: the inline size (0..15), or kHeap: then bytes_ starts
  // with the heap pointer and the uint32 size.
  static constexpr size_t kTag = 15;
  static constexpr unsigned char kHeap = 0xff;

  bool on_heap() const { return static_cast<unsigned char>(bytes_[kTag]) == kHeap; }
  void Assign(absl::string_view id) {
    if (id.size() <= kInlineBytes) {
      std::memcpy(bytes_, id.data(), id.size());
      bytes_[kTag] = static_cast<char>(id.size());
      return;
    }
    char* data = new char[id.size()];
    std::memcpy(data, id.data(), id.size());
    const uint32_t size = static_cast<uint32_t>(id.size());
    std::memcpy(bytes_, &data, sizeof(data));
    std::memcpy(bytes_ + sizeof(data), &size, sizeof(size));
    bytes_[kTag] = static_cast<char>(kHeap);
  }
  void Release() {
    if (!on_heap()) return;
    char* data;
    std::memcpy(&data, bytes_, sizeof(data));
    delete[] data;
    bytes_[kTag] = 0;
  }

  alignas(8) char bytes_[16];
};
static_assert(sizeof(CompactId) == 16);

struct CompactIdHash {
  using is_transparent = void;
  size_t operator()(absl::string_view id) const { return absl::Hash<absl::string_view>{}(id); }
  size_t operator()(const CompactId& id) const { return (*this)(id.view()); }
};

struct CompactIdEq {
  using is_transparent = void;
  static absl::string_view View(absl::string_view id) { return id; }
  static absl::string_view View(const CompactId& id) { return id.view(); }
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    return View(a) == View(b);
  }
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_STATE_COMPACT_ID_H_
