// libFuzzer target: the sidecar's edge-sync update applier
// (sidecar::EdgeSyncState::Apply), fed a stream of v1::EdgeUpdate messages
// parsed from the fuzz bytes, as a hostile or broken server could send them;
// and the snapshot file the sidecar persists what it applied to
// (sidecar::ParseSnapshotJson).
//
// Input: the first byte picks the mode. Mode 0..127: the rest is a sequence
// of serialized EdgeUpdates, each framed as FuzzedDataProvider's
// ConsumeRandomLengthString reads it ('\' doubled, "\" + any other byte ends
// one), applied in order to one EdgeSyncState. Mode 128..255: the rest is a
// snapshot file.
// Checks: no crash, leak, UB or timeout; a refused update leaves the version
// and fingerprint as they were; every applied state survives its snapshot
// file (SnapshotToJson -> ParseSnapshotJson gives the same version, keys and
// revoked count).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "client/sidecar/edge_sync_client.h"
#include "client/sidecar/validator_state.h"
#include "edgepass/v1/edge_sync.pb.h"
#include "google/protobuf/stubs/logging.h"

namespace {

// Known, reported, not fixed here: SnapshotToJson writes each byte >= 0x80
// of a session id or fingerprint as a \u00XX escape (http::JsonQuote), which
// reads back as a different string (byte 0xFA -> U+00FA -> C3 BA), so a
// non-ASCII revoked id changes through the snapshot file (and one near the
// 128-byte limit makes the file unreadable). Issued session ids are ASCII
// identifiers, so the round trip is held exactly for printable ASCII only.
bool PrintableAscii(absl::string_view s) {
  for (char c : s) {
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

void CheckSnapshotRoundTrip(const edgepass::sidecar::ValidatorState& state) {
  bool ascii = PrintableAscii(state.keyring_fingerprint);
  state.revoked->ForEach([&](absl::string_view id, absl::Time) {
    ascii = ascii && PrintableAscii(id);
  });
  if (!ascii) return;
  const std::string file = edgepass::sidecar::SnapshotToJson(state);
  absl::StatusOr<edgepass::sidecar::ValidatorState> back =
      edgepass::sidecar::ParseSnapshotJson(file);
  if (!back.ok() || back->version != state.version ||
      back->keyring_fingerprint != state.keyring_fingerprint ||
      back->keyring.keys().size() != state.keyring.keys().size() ||
      back->revoked->size() != state.revoked->size()) {
    std::fprintf(stderr, "snapshot round trip: %s\nfile: %s\n",
                 back.ok() ? "differs" : back.status().ToString().c_str(),
                 file.c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Protobuf logs every string field with invalid UTF-8 it refuses.
  google::protobuf::SetLogHandler(nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  if (data[0] >= 128) {
    const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
    absl::StatusOr<edgepass::sidecar::ValidatorState> state =
        edgepass::sidecar::ParseSnapshotJson(text);
    if (state.ok()) CheckSnapshotRoundTrip(*state);
    return 0;
  }
  FuzzedDataProvider in(data + 1, size - 1);
  edgepass::sidecar::EdgeSyncState state;
  for (int messages = 0; messages < 64 && in.remaining_bytes() > 0;
       ++messages) {
    const std::string bytes = in.ConsumeRandomLengthString(64 * 1024);
    edgepass::v1::EdgeUpdate update;
    if (!update.ParseFromString(bytes)) continue;  // gRPC drops such a message
    const uint64_t version = state.version();
    const std::string fingerprint = state.keyring_fingerprint();
    auto applied = state.Apply(update);
    if (!applied.ok()) {
      if (state.version() != version ||
          state.keyring_fingerprint() != fingerprint)
        std::abort();
      continue;
    }
    if (applied->has_value()) CheckSnapshotRoundTrip(**applied);
  }
  return 0;
}
