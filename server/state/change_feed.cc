#include "server/state/change_feed.h"

namespace edgepass::server {

absl::string_view ChangeKindName(ChangeKind kind) {
  switch (kind) {
    case ChangeKind::kCatalog:
      return "catalog";
    case ChangeKind::kSessions:
      return "sessions";
    case ChangeKind::kKeyring:
      return "keyring";
  }
  return "unknown";
}

}  // namespace edgepass::server
