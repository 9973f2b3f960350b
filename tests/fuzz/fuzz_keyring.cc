// libFuzzer target: the keyring file parser (core::ParseKeyringJson: the
// project's {"keys":[...]} format and SMD's {"primary":..,"secondary":..}),
// as the server's file keyring store and the sidecar's --keyring-file read it.
// Checks: no crash, leak or UB; an accepted keyring written back with
// KeyringToJson parses to the same keys, and Find/FindByEncodedHeader agree.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"
#include "core/crypto.h"
#include "core/keyring.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string json(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<edgepass::core::Keyring> keys =
      edgepass::core::ParseKeyringJson(json);
  if (!keys.ok()) {
    if (keys.status().message().empty()) std::abort();  // errors name the field
    return 0;
  }
  for (const edgepass::core::SigningKey& key : keys->keys()) {
    if (keys->Find(key.id) != &key) std::abort();
    if (keys->MacKeyOf(&key) == nullptr) std::abort();
    const std::string header =
        edgepass::core::Base64UrlEncode(edgepass::core::JwtHeaderJson(key.id));
    if (keys->FindByEncodedHeader(header) != &key) std::abort();
  }
  const std::string written = edgepass::core::KeyringToJson(*keys);
  absl::StatusOr<edgepass::core::Keyring> again =
      edgepass::core::ParseKeyringJson(written);
  if (!again.ok() || again->keys().size() != keys->keys().size()) std::abort();
  for (size_t i = 0; i < keys->keys().size(); ++i) {
    const edgepass::core::SigningKey& a = keys->keys()[i];
    const edgepass::core::SigningKey& b = again->keys()[i];
    if (a.id != b.id || a.value != b.value || a.state != b.state ||
        a.created_at != b.created_at || a.not_after != b.not_after) {
      std::abort();
    }
  }
  if (edgepass::core::KeyringToJson(*again) != written) std::abort();
  return 0;
}
