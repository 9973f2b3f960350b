// An allocator for large arrays that are made and dropped often (the
// compiled revocation list's buckets, copied on every change): arrays of
// kMinBytes and more are mapped straight from the kernel and unmapped when
// freed, so their pages go back at once; smaller ones come from operator new.
// Without it the heap kept the freed copies' memory (about 13 kB resident per
// revoke at a million entries, fragmentation that malloc does not return).
//
//   std::vector<Entry, PageAllocator<Entry>> bucket;
#ifndef EDGEPASS_SERVER_APP_PAGE_ALLOCATOR_H_
#define EDGEPASS_SERVER_APP_PAGE_ALLOCATOR_H_

#include <sys/mman.h>

#include <cstddef>
#include <new>

namespace edgepass::server {

template <typename T>
class PageAllocator {
 public:
  using value_type = T;
  static constexpr size_t kMinBytes = size_t{16} << 10;

  PageAllocator() = default;
  template <typename U>
  PageAllocator(const PageAllocator<U>&) {}  // NOLINT: rebinding, as std::allocator

  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kMinBytes) return static_cast<T*>(::operator new(bytes));
    void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();  // as operator new would
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kMinBytes) {
      ::operator delete(p);
    } else {
      ::munmap(p, bytes);
    }
  }

  friend bool operator==(const PageAllocator&, const PageAllocator&) { return true; }
  friend bool operator!=(const PageAllocator&, const PageAllocator&) { return false; }
};

}  // namespace edgepass::server

#endif  // EDGEPASS_SERVER_APP_PAGE_ALLOCATOR_H_
