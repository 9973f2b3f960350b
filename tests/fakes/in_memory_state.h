// In-memory state stores for in-process tests of the service layer
// (server/app/): a catalog store, a session store and a fixed keyring source. Each keeps the contract of its interface (versions
// increase with every write; a failing mutation stores nothing) without files,
// Redis or threads.
//
//   InMemoryCatalogStore catalogs(*Catalog::Parse(SampleCatalogJson(), "sample"));
//   InMemorySessionStore sessions;
//   FixedKeyringSource keys(TestKeyring());
#ifndef EDGEPASS_TESTS_FAKES_IN_MEMORY_STATE_H_
#define EDGEPASS_TESTS_FAKES_IN_MEMORY_STATE_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "core/keyring.h"
#include "server/state/catalog.h"
#include "server/state/catalog_store.h"
#include "server/state/keyring_source.h"
#include "server/state/secret_store.h"
#include "server/state/session_store.h"

namespace edgepass::testing {

// Thread-safe.
class InMemoryCatalogStore : public server::CatalogStore {
 public:
  explicit InMemoryCatalogStore(server::Catalog initial = {})
      : catalog_(std::make_shared<const server::Catalog>(std::move(initial))) {}

  absl::StatusOr<server::VersionedCatalog> Load() override {
    absl::MutexLock lock(&mu_);
    return server::VersionedCatalog{.catalog = catalog_, .version = version_};
  }
  absl::StatusOr<uint64_t> Update(const Mutation& mutate) override {
    absl::MutexLock lock(&mu_);
    absl::StatusOr<server::Catalog> next = mutate(*catalog_);
    if (!next.ok()) return next.status();
    catalog_ = std::make_shared<const server::Catalog>(*std::move(next));
    return ++version_;
  }

 private:
  absl::Mutex mu_;
  std::shared_ptr<const server::Catalog> catalog_ ABSL_GUARDED_BY(mu_);
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;
};

// Thread-safe.
class InMemorySessionStore : public server::SessionStore {
 public:
  absl::StatusOr<uint64_t> Put(const core::RevocationEntry& entry) override {
    absl::MutexLock lock(&mu_);
    entries_[entry.session_id] = entry;
    return ++version_;
  }
  absl::StatusOr<uint64_t> Remove(absl::string_view session_id) override {
    absl::MutexLock lock(&mu_);
    if (entries_.erase(std::string(session_id)) == 0) {
      return absl::NotFoundError(absl::StrCat("session_id: \"", session_id, "\" is not revoked"));
    }
    return ++version_;
  }
  absl::StatusOr<server::ReportResult> Report(absl::Span<const core::RevocationEntry> entries) override {
    absl::MutexLock lock(&mu_);
    if (entries.size() > server::kMaxReportBatch) return absl::InvalidArgumentError("sessions: too many");
    server::ReportResult out;
    bool stored = false;
    for (const core::RevocationEntry& e : entries) {
      auto [it, added] = entries_.emplace(e.session_id, e);
      out.outcomes.push_back(added ? server::ReportOutcome::kStored
                             : it->second.type == core::RevocationType::kManual ? server::ReportOutcome::kAlreadyManual
                                                                                 : server::ReportOutcome::kAlreadyAuto);
      out.entries.push_back(it->second);
      stored = stored || added;
    }
    out.version = stored ? ++version_ : version_;
    return out;
  }
  absl::StatusOr<server::SessionList> List() override {
    absl::MutexLock lock(&mu_);
    server::SessionList list{.version = version_};
    for (const auto& [id, e] : entries_) list.entries.push_back(e);
    return list;
  }
  absl::StatusOr<size_t> Prune(absl::Time cutoff) override {
    absl::MutexLock lock(&mu_);
    size_t dropped = 0;
    for (auto it = entries_.begin(); it != entries_.end();) {
      const bool old = it->second.expires_at < cutoff;
      it = old ? entries_.erase(it) : std::next(it);
      dropped += old;
    }
    if (dropped > 0) ++version_;
    return dropped;
  }

 private:
  absl::Mutex mu_;
  std::map<std::string, core::RevocationEntry> entries_ ABSL_GUARDED_BY(mu_);
  uint64_t version_ ABSL_GUARDED_BY(mu_) = 0;
};

// The keyring it was given, or the last one shared (none: UNAVAILABLE, as
// before the first load).
class FixedKeyringSource : public server::KeyringSource {
 public:
  explicit FixedKeyringSource(std::shared_ptr<const core::Keyring> keyring) : keyring_(std::move(keyring)) {}
  absl::StatusOr<std::shared_ptr<const core::Keyring>> Current() override {
    absl::MutexLock lock(&mu_);
    if (keyring_ == nullptr) return absl::UnavailableError("keyring: never loaded");
    return keyring_;
  }
  absl::Status Share(const core::Keyring& keyring) override {
    absl::MutexLock lock(&mu_);
    keyring_ = std::make_shared<const core::Keyring>(keyring);
    ++shares_;
    return absl::OkStatus();
  }
  int shares() {
    absl::MutexLock lock(&mu_);
    return shares_;
  }

 private:
  absl::Mutex mu_;
  std::shared_ptr<const core::Keyring> keyring_ ABSL_GUARDED_BY(mu_);
  int shares_ ABSL_GUARDED_BY(mu_) = 0;
};

// A secrets store in memory: the keyring as its JSON text, so what is read
// back went through the same format as a real store, and the CloudFront keys
// as written. `fail_writes` makes every write fail (UNAVAILABLE) without
// changing what is stored.
class InMemorySecretStore : public server::SecretStore {
 public:
  explicit InMemorySecretStore(const core::Keyring& keyring) : json_(core::KeyringToJson(keyring)) {}
  absl::StatusOr<core::Keyring> ReadKeyring() override {
    absl::MutexLock lock(&mu_);
    ++reads_;
    return core::ParseKeyringJson(json_);
  }
  absl::Status WriteKeyring(const core::Keyring& keyring) override {
    absl::MutexLock lock(&mu_);
    if (fail_writes_) return absl::UnavailableError("secrets store: unreachable (test)");
    json_ = core::KeyringToJson(keyring);
    ++writes_;
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<server::CloudFrontKeyEntry>> ReadCloudFrontKeys() override {
    absl::MutexLock lock(&mu_);
    return cloudfront_keys_;
  }
  absl::Status WriteCloudFrontKey(const server::CloudFrontKeyEntry& entry) override {
    absl::MutexLock lock(&mu_);
    if (fail_writes_) return absl::UnavailableError("secrets store: unreachable (test)");
    cloudfront_keys_.push_back(entry);
    return absl::OkStatus();
  }
  int64_t read_count() const override {
    absl::MutexLock lock(&mu_);
    return reads_;
  }
  int64_t read_error_count() const override { return 0; }
  int writes() const {
    absl::MutexLock lock(&mu_);
    return writes_;
  }
  void set_fail_writes(bool fail) {
    absl::MutexLock lock(&mu_);
    fail_writes_ = fail;
  }
  core::Keyring Stored() const {
    absl::MutexLock lock(&mu_);
    return *core::ParseKeyringJson(json_);
  }

 private:
  mutable absl::Mutex mu_;
  std::string json_ ABSL_GUARDED_BY(mu_);
  std::vector<server::CloudFrontKeyEntry> cloudfront_keys_ ABSL_GUARDED_BY(mu_);
  int64_t reads_ ABSL_GUARDED_BY(mu_) = 0;
  int writes_ ABSL_GUARDED_BY(mu_) = 0;
  bool fail_writes_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace edgepass::testing

#endif  // EDGEPASS_TESTS_FAKES_IN_MEMORY_STATE_H_
