#include "core/random.h"

#include <openssl/rand.h>

#include <cstdio>
#include <cstdlib>

namespace edgepass::core {

void SecureRandom::Fill(absl::Span<uint8_t> out) {
  if (out.empty()) return;
  if (RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    std::fputs("edgepass: CSPRNG failure (RAND_bytes); refusing to continue\n", stderr);
    std::abort();
  }
}

}  // namespace edgepass::core
