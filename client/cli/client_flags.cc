#include "client/cli/client_flags.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "client/channel/api_key.h"
#include "client/channel/grpc_channel_tls.h"
#include "client/channel/plaintext_guard.h"

namespace edgepass::cli {

absl::StatusOr<client::ClientOptions> ClientOptionsFromFlags(const ParsedFlags& flags, const CliEnv& env,
                                                             absl::string_view address_flag,
                                                             const std::string& address) {
  client::ClientOptions options{.address = address};
  if (const std::string* text = flags.Get("deadline")) {
    absl::Duration deadline;
    if (!absl::ParseDuration(*text, &deadline) || deadline <= absl::ZeroDuration()) {
      return absl::InvalidArgumentError(absl::StrCat("--deadline '", *text, "': expected e.g. 5s, 500ms"));
    }
    options.deadline = deadline;
  }
  const char* key_file = env.lookup_env ? env.lookup_env("EDGEPASS_API_KEY_FILE") : nullptr;
  if (const std::string* path = flags.Get("api-key-file")) key_file = path->c_str();
  if (key_file != nullptr && *key_file != '\0') {
    absl::StatusOr<std::string> key = client::ReadApiKeyFile(key_file);
    if (!key.ok()) return absl::InvalidArgumentError(absl::StrCat("--api-key-file: ", key.status().message()));
    options.api_key = *std::move(key);
  }
  if (const std::string* ca = flags.Get("server-ca")) {
    auto credentials = client::MakeGrpcChannelCredentials({.ca_file = *ca});
    if (!credentials.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("--server-ca: ", credentials.status().message()));
    }
    options.credentials = *std::move(credentials);
  } else if (!options.api_key.empty() && !flags.Has("insecure-plaintext")) {
    // No TLS: the key may only go to a loopback server.
    if (absl::Status s = client::CheckPlaintextServer(address_flag, address, "the API key"); !s.ok()) {
      return absl::InvalidArgumentError(s.message());
    }
  }
  return options;
}

}  // namespace edgepass::cli
