// Writes the fuzz seeds that need the project's own code to build (run by the
// fuzz_seeds test before the fuzz runs): serialized EdgeUpdate streams, the
// sample catalog and a keyring file. Usage: edgepass_fuzz_seedgen <out-dir>;
// writes <out-dir>/<target>/<name>.
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iostream>
#include <string>

#include "absl/time/time.h"
#include "client/sidecar/validator_state.h"
#include "client/validator/module_state.h"
#include "core/keyring.h"
#include "core/random.h"
#include "edgepass/v1/edge_sync.pb.h"
#include "server/state/catalog.h"

namespace {

class FixedRandom : public edgepass::core::RandomSource {
 public:
  void Fill(absl::Span<uint8_t> out) override {
    for (auto& b : out) b = static_cast<uint8_t>(next_++ * 97 + 13);
  }

 private:
  unsigned next_ = 0;
};

void Write(const std::filesystem::path& dir, const std::string& name,
           const std::string& bytes) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
}

// One message as FuzzedDataProvider::ConsumeRandomLengthString reads it.
std::string Frame(const std::string& message) {
  std::string out;
  for (char c : message) {
    out += c;
    if (c == '\\') out += '\\';
  }
  return out + "\\\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: edgepass_fuzz_seedgen <out-dir>\n";
    return 2;
  }
  const std::filesystem::path out = argv[1];
  const absl::Time now = absl::FromUnixSeconds(1767225600);
  FixedRandom random;
  const edgepass::core::SigningKey primary = edgepass::core::GenerateSigningKey(
      now, edgepass::core::KeyState::kPrimary, random);
  edgepass::core::SigningKey retired = edgepass::core::GenerateSigningKey(
      now, edgepass::core::KeyState::kRetired, random);
  retired.not_after = now + absl::Hours(24);

  // Edge sync: a snapshot in two messages, then a delta.
  edgepass::v1::EdgeUpdate first;
  first.set_version(7);
  first.set_snapshot(true);
  first.set_keyring_changed(true);
  first.set_keyring_fingerprint("fp1");
  first.set_snapshot_revoked_count(2);
  for (const edgepass::core::SigningKey* k :
       std::initializer_list<const edgepass::core::SigningKey*>{&primary,
                                                                &retired}) {
    edgepass::v1::EdgeKey* key = first.add_keys();
    key->set_id(k->id);
    key->set_value(k->value);
    key->set_state(k == &primary ? edgepass::v1::PRIMARY
                                 : edgepass::v1::RETIRED);
    key->mutable_created_at()->set_seconds(absl::ToUnixSeconds(k->created_at));
    if (k == &retired)
      key->mutable_not_after()->set_seconds(absl::ToUnixSeconds(k->not_after));
  }
  first.add_revoked_add()->set_session_id("aaaaaaa1");
  edgepass::v1::EdgeUpdate rest;
  rest.set_version(7);
  rest.set_snapshot(true);
  rest.set_complete(true);
  rest.set_keyring_fingerprint("fp1");
  edgepass::v1::RevokedId* r = rest.add_revoked_add();
  r->set_session_id("bbbbbbb2");
  r->mutable_expires_at()->set_seconds(1767229200);
  edgepass::v1::EdgeUpdate delta;
  delta.set_version(8);
  delta.set_complete(true);
  delta.set_keyring_fingerprint("fp1");
  delta.add_revoked_add()->set_session_id("ccccccc3");
  delta.add_revoked_remove("aaaaaaa1");
  edgepass::v1::EdgeUpdate complete = first;
  complete.set_complete(true);
  const std::string sync = out / "edge_sync";
  Write(sync, "snapshot_then_delta",
        std::string(1, '\0') + Frame(first.SerializeAsString()) +
            Frame(rest.SerializeAsString()) + Frame(delta.SerializeAsString()));
  Write(sync, "one_message_snapshot",
        std::string(1, '\1') + Frame(complete.SerializeAsString()));
  Write(sync, "delta_first",
        std::string(1, '\2') + Frame(delta.SerializeAsString()));

  // The snapshot file the sidecar writes.
  edgepass::sidecar::ValidatorState state{.version = 7,
                                          .keyring_fingerprint = "fp1"};
  auto ring = edgepass::core::Keyring::Create({primary, retired});
  if (!ring.ok()) return 1;
  state.keyring = *ring;
  auto revoked = std::make_shared<edgepass::core::RevocationSet>();
  revoked->Add("aaaaaaa1");
  revoked->Add("bbbbbbb2", now + absl::Hours(1));
  state.revoked = std::make_shared<const edgepass::client::RevokedSessions>(revoked);
  Write(sync, "snapshot_file",
        std::string(1, '\x80') + edgepass::sidecar::SnapshotToJson(state));

  // The nginx module's state file, with and without revocations.
  Write(out / "module_state", "two_revoked",
        edgepass::client::SerializeModuleState(7, *ring, *revoked));
  Write(out / "module_state", "none_revoked",
        edgepass::client::SerializeModuleState(8, *ring, edgepass::core::RevocationSet()));
  // Its overlay of recent changes: one added, one removed.
  edgepass::core::RevocationSet overlay;
  overlay.Put("aaaaaaa1", absl::InfinitePast());
  overlay.Put("ccccccc3", absl::FromUnixSeconds(1767229200));
  Write(out / "module_state", "overlay",
        edgepass::client::SerializeModuleOverlay(8, 7, 2, overlay));

  // Keyring files: the project's format (SMD's is in tests/fuzz/corpus).
  Write(out / "keyring", "project_format",
        edgepass::core::KeyringToJson(*ring));

  // Catalog: the sample the server starts with, and its ToJson.
  Write(out / "catalog", "sample",
        std::string(edgepass::server::SampleCatalogJson()));
  auto catalog = edgepass::server::Catalog::Parse(
      edgepass::server::SampleCatalogJson(), "sample");
  if (catalog.ok()) Write(out / "catalog", "sample_tojson", catalog->ToJson());
  return 0;
}
