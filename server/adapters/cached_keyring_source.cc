#include "server/adapters/cached_keyring_source.h"

#include <utility>

namespace edgepass::server {

CachedKeyringSource::CachedKeyringSource(SecretStore& store, ChangeFeed* feed,
                                         CachedKeyringSourceOptions options)
    : store_(store),
      feed_(feed),
      options_(std::move(options)),
      cache_(/*feed=*/nullptr,
             {.retry_interval = options_.retry_interval,
              .first_wait = options_.first_wait,
              .clock = options_.clock},
             [this](absl::Time now, bool) -> absl::StatusOr<std::optional<FetchedKeyring>> {
               absl::StatusOr<core::Keyring> keys = store_.ReadKeyring();
               if (!keys.ok()) return keys.status();
               return FetchedKeyring{std::make_shared<const core::Keyring>(*std::move(keys)),
                                     now + options_.ttl};
             }) {}

absl::StatusOr<std::shared_ptr<const core::Keyring>> CachedKeyringSource::Current() {
  return cache_.Current();
}

absl::Status CachedKeyringSource::Share(const core::Keyring& keyring) {
  cache_.Set(std::make_shared<const core::Keyring>(keyring), options_.clock() + options_.ttl);
  if (feed_ != nullptr) feed_->Publish(ChangeKind::kKeyring);
  return absl::OkStatus();
}

}  // namespace edgepass::server
