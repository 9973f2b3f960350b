#include "client/sidecar/initial_state.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "client/sidecar/file_snapshot_store.h"
#include "text/json_string.h"

namespace edgepass::sidecar {
namespace {

constexpr size_t kMaxKeyringFileBytes = 1u << 20;

absl::Status FlagFileError(absl::string_view flag, const std::string& path,
                           const absl::Status& status) {
  // I/O errors already start with the path.
  if (status.code() != absl::StatusCode::kInvalidArgument) {
    return absl::Status(status.code(),
                        absl::StrCat("--", flag, ": ", status.message()));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("--", flag, " file '", path, "': ", status.message()));
}

absl::StatusOr<ValidatorState> LoadStatic(const SidecarOptions& options) {
  ValidatorState state;
  absl::StatusOr<std::string> text =
      ReadFileUpTo(options.keyring_file, kMaxKeyringFileBytes);
  if (!text.ok())
    return FlagFileError("keyring", options.keyring_file, text.status());
  absl::StatusOr<core::Keyring> keys = core::ParseKeyringJson(*text);
  if (!keys.ok())
    return FlagFileError("keyring", options.keyring_file, keys.status());
  state.keyring = *std::move(keys);
  if (!options.revoked_file.empty()) {
    text = ReadFileUpTo(options.revoked_file, kMaxSnapshotBytes);
    if (!text.ok())
      return FlagFileError("revoked", options.revoked_file, text.status());
    absl::StatusOr<core::RevocationSet> revoked =
        core::ParseRevocationJson(*text);
    if (!revoked.ok())
      return FlagFileError("revoked", options.revoked_file, revoked.status());
    state.revoked = client::RevokedSessions::Share(*std::move(revoked));
  }
  return state;
}

}  // namespace

absl::StatusOr<std::optional<ValidatorState>> LoadInitialState(
    const SidecarOptions& options, const SnapshotStore* store,
    const LogSink& log) {
  if (!options.keyring_file.empty()) {
    absl::StatusOr<ValidatorState> state = LoadStatic(options);
    if (!state.ok()) return state.status();
    return std::optional<ValidatorState>(*std::move(state));
  }
  const bool has_server = !options.servers.empty();
  if (store == nullptr) {
    if (has_server) return std::optional<ValidatorState>();
    return absl::InvalidArgumentError(
        "no keyring source: give --keyring, --snapshot or --server");
  }
  absl::StatusOr<std::optional<ValidatorState>> loaded = store->Load();
  if (loaded.ok() && loaded->has_value()) return loaded;
  if (loaded.ok()) {
    if (has_server) return loaded;  // first start: wait for the server
    return absl::NotFoundError(
        absl::StrCat("--snapshot file '", options.snapshot_file,
                     "' does not exist and there is no --keyring or --server"));
  }
  if (has_server) {
    if (log) {
      log(absl::StrCat(
          "{\"event\":\"snapshot_unusable\",\"level\":\"warning\","
          "\"error\":",
          text::JsonString(loaded.status().message()),
          ",\"action\":\"starting without it; waiting for --server\"}"));
    }
    return std::optional<ValidatorState>();
  }
  return absl::Status(loaded.status().code(),
                      absl::StrCat("--snapshot: ", loaded.status().message()));
}

}  // namespace edgepass::sidecar
