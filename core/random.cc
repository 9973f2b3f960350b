#include "core/random.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace edgepass::core {
namespace {

// Small requests (session ids, request ids) are served from a per-thread
// block of RAND_bytes output: one RAND_bytes call (which checks the pid and
// takes locks) per kBlock bytes instead of per id. Served bytes are wiped;
// a forked child discards its copy of the parent's block.
constexpr size_t kBlock = 4096;
constexpr size_t kMaxBuffered = 256;

std::atomic<uint64_t> fork_generation{0};

void Refill(uint8_t* out, size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) != 1) {
    std::fputs("edgepass: CSPRNG failure (RAND_bytes); refusing to continue\n", stderr);
    std::abort();
  }
}

struct Block {
  uint8_t bytes[kBlock];
  size_t used = kBlock;  // nothing buffered yet
  uint64_t generation = 0;
  ~Block() { OPENSSL_cleanse(bytes, sizeof(bytes)); }
};

}  // namespace

void SecureRandom::Fill(absl::Span<uint8_t> out) {
  if (out.empty()) return;
  if (out.size() > kMaxBuffered) {
    Refill(out.data(), out.size());
    return;
  }
  static const bool registered = [] {
    pthread_atfork(nullptr, nullptr, [] { fork_generation.fetch_add(1); });
    return true;
  }();
  (void)registered;
  thread_local Block block;
  const uint64_t generation = fork_generation.load(std::memory_order_relaxed);
  if (block.generation != generation || kBlock - block.used < out.size()) {
    Refill(block.bytes, kBlock);
    block.used = 0;
    block.generation = generation;
  }
  std::memcpy(out.data(), block.bytes + block.used, out.size());
  OPENSSL_cleanse(block.bytes + block.used, out.size());
  block.used += out.size();
}

}  // namespace edgepass::core
