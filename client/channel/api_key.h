// API keys for edgepass's gRPC clients (the validator sidecar, the CLI, the
// load generator): read once from a private file, sent on each call as
// `authorization: Bearer <key>` metadata, the credential the server's access
// file admits by hash (server/auth/access.h). The key is a secret: it is
// never logged and no error here contains it.
//
//   absl::StatusOr<std::string> key = ReadApiKeyFile("/run/secrets/edge-key");
//   if (!key.ok()) return Fail(key.status().message());  // names the file
//   grpc::ClientContext context;
//   AddApiKey(*key, &context);
#ifndef EDGEPASS_CLIENT_CHANNEL_API_KEY_H_
#define EDGEPASS_CLIENT_CHANNEL_API_KEY_H_

#include <cstddef>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace grpc {
class ClientContext;
}  // namespace grpc

namespace edgepass::client {

// The longest key accepted (the server's limit too).
inline constexpr size_t kMaxApiKeyBytes = 512;

// The key in `path`: its content without surrounding whitespace (so a file
// written by `echo` works). The file must not be accessible to group or
// others (no bit of mode 077, after symlinks), as ssh insists for private
// keys: PERMISSION_DENIED "api key file 'PATH' is accessible by group or
// others (mode 0644); restrict it: chmod 600 'PATH'". PERMISSION_DENIED also
// when it cannot be read, NOT_FOUND when it does not exist,
// INVALID_ARGUMENT when it is not a regular file, holds no key, a key longer
// than kMaxApiKeyBytes, or whitespace or a character outside printable
// ASCII inside the key (metadata cannot carry it). Messages start with "api key
// file 'PATH'" and never quote the content. Thread-safe.
absl::StatusOr<std::string> ReadApiKeyFile(const std::string& path);

// Adds "authorization: Bearer <api_key>" to the call's metadata; does
// nothing for an empty key. Call before the RPC starts.
void AddApiKey(absl::string_view api_key, grpc::ClientContext* context);

}  // namespace edgepass::client

#endif  // EDGEPASS_CLIENT_CHANNEL_API_KEY_H_
