// The flags every command that calls the service shares: --deadline,
// --api-key-file (else $EDGEPASS_API_KEY_FILE), --server-ca and
// --insecure-plaintext, turned into the SDK's ClientOptions.
//
//   absl::StatusOr<client::ClientOptions> o = ClientOptionsFromFlags(*flags, env, "--server", *server);
#ifndef EDGEPASS_CLIENT_CLI_CLIENT_FLAGS_H_
#define EDGEPASS_CLIENT_CLI_CLIENT_FLAGS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "client/cli/commands.h"
#include "client/cli/flags.h"
#include "client/lib/playback_client.h"

namespace edgepass::cli {

// The specs to list in a command's FlagSpec table.
#define EDGEPASS_CLIENT_FLAG_SPECS                                                            \
  {"deadline"}, {"api-key-file"}, {"server-ca"}, {"insecure-plaintext", FlagKind::kSwitch}

// INVALID_ARGUMENT naming the flag: a bad --deadline, an unreadable or
// public key file, a bad CA bundle, or a key that would go in cleartext to a
// non-loopback `address` (named `address_flag` in the message) without
// --insecure-plaintext.
absl::StatusOr<client::ClientOptions> ClientOptionsFromFlags(const ParsedFlags& flags, const CliEnv& env,
                                                             absl::string_view address_flag,
                                                             const std::string& address);

}  // namespace edgepass::cli

#endif  // EDGEPASS_CLIENT_CLI_CLIENT_FLAGS_H_
