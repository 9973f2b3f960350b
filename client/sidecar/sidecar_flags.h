// The validator's flags, each declared once: names, value, help, default
// and how its values land in SidecarOptions. ParseSidecarOptions,
// SidecarUsage and SidecarOptionsMarkdown read this one table.
//
//   for (const FlagDef& f : SidecarFlags()) {
//     if (f.apply != nullptr) EDGEPASS_RETURN_IF_ERROR(f.apply(values, &o));
//   }
#ifndef EDGEPASS_CLIENT_SIDECAR_SIDECAR_FLAGS_H_
#define EDGEPASS_CLIENT_SIDECAR_SIDECAR_FLAGS_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "client/sidecar/sidecar_options.h"

namespace edgepass::sidecar::flags_internal {

struct FlagDef {
  const char* name;        // "listen": --listen
  const char* env;         // its environment variable
  const char* value_name;  // "HOST:PORT"; "" for a switch
  bool repeated;           // repeatable flag; comma list in the environment
  const char* help;        // Markdown code spans allowed (dropped by --help)
  const char* details;     // docs only; may be ""
  // The default as shown; nullptr: none.
  std::string (*default_shown)(const SidecarOptions& defaults);
  // Applies the flag's values (at least one); nullptr: applied with the
  // flags it goes with (the CloudFront three).
  absl::Status (*apply)(const std::vector<std::string>& values,
                        SidecarOptions* options);
};

// Every flag, in the order --help and the docs list them and their values
// are applied in.
const std::vector<FlagDef>& SidecarFlags();

// INVALID_ARGUMENT "--FLAG: MESSAGE".
absl::Status BadFlag(absl::string_view flag, absl::string_view message);

}  // namespace edgepass::sidecar::flags_internal

#endif  // EDGEPASS_CLIENT_SIDECAR_SIDECAR_FLAGS_H_
