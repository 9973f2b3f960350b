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

// SnapshotToJson writes strings as text::JsonString does: valid UTF-8 as it
// stands. Every id and fingerprint here is valid UTF-8 (proto3 strings must
// be, and ParseSnapshotJson refuses any other, in its fast scanner too), so
// each state reads back as it was written. (Until the sidecar wrote one \u00XX
// escape a byte >= 0x80, a non-ASCII id changed through the file and one near
// the 128-byte limit made it unreadable; the round trip was held for printable
// ASCII only.)
void CheckSnapshotRoundTrip(const edgepass::sidecar::ValidatorState& state) {
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
