// Randomness as an input: core code that needs random bytes takes a
// RandomSource, so tests can pass a deterministic one.
//
//   edgepass::core::SecureRandom random;
//   std::string id = GenerateSessionId(12, random);
#ifndef EDGEPASS_CORE_RANDOM_H_
#define EDGEPASS_CORE_RANDOM_H_

#include <cstdint>

#include "absl/types/span.h"

namespace edgepass::core {

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  // Fills `out` with random bytes. Must be thread-safe if shared.
  virtual void Fill(absl::Span<uint8_t> out) = 0;
};

// Cryptographically secure bytes from OpenSSL's RAND_bytes (a CSPRNG seeded by
// the OS). Aborts the process if the CSPRNG fails, because continuing would
// issue predictable keys or session ids. Thread-safe.
class SecureRandom : public RandomSource {
 public:
  void Fill(absl::Span<uint8_t> out) override;
};

}  // namespace edgepass::core

#endif  // EDGEPASS_CORE_RANDOM_H_
